#include "s3db/connection.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace s3db {
namespace {

using EnvMap = std::map<std::string, std::string, std::less<>>;

Result<ConnectionOptions> parse(std::string_view uri, EnvMap env = {}) {
  return ConnectionOptions::FromUriWithEnv(uri, [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

ConnectionOptions ok(std::string_view uri, EnvMap env = {}) {
  auto r = parse(uri, std::move(env));
  EXPECT_TRUE(r.ok()) << uri << " → " << r.status().to_string();
  return r.ok() ? *r : ConnectionOptions{};
}

std::string error_of(std::string_view uri, EnvMap env = {}) {
  auto r = parse(uri, std::move(env));
  EXPECT_FALSE(r.ok()) << uri << " parsed but should not";
  if (r.ok()) return {};
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().to_string();
  return r.status().message();
}

TEST(ConnectionTest, MemoryForms) {
  auto a = ok("memory://");
  EXPECT_EQ(a.kind, StorageKind::kMemory);
  EXPECT_EQ(a.bucket, "");
  EXPECT_EQ(a.prefix, "");
  auto b = ok("memory://bucket/app/v1/");
  EXPECT_EQ(b.bucket, "bucket");
  EXPECT_EQ(b.prefix, "app/v1");
  auto c = ok("MEMORY://b?concurrency=4&max_retries=0&timeout_ms=250");
  EXPECT_EQ(c.kind, StorageKind::kMemory);
  EXPECT_EQ(c.concurrency, 4);
  EXPECT_EQ(c.max_retries, 0);
  EXPECT_EQ(c.timeout, std::chrono::milliseconds(250));
}

TEST(ConnectionTest, FileForms) {
  auto a = ok("file:///var/lib/s3db/");
  EXPECT_EQ(a.kind, StorageKind::kFile);
  EXPECT_EQ(a.path, "/var/lib/s3db");
  EXPECT_EQ(ok("file:///tmp/a/../b").path, "/tmp/b");
  EXPECT_EQ(ok("file:///tmp/with%20space").path, "/tmp/with space");
  const auto cwd = std::filesystem::current_path();
  EXPECT_EQ(ok("file://./data").path, (cwd / "data").lexically_normal().string());
  EXPECT_EQ(ok("file://../up").path, (cwd / "../up").lexically_normal().string());
  EXPECT_NE(error_of("file://relative/dir").find("absolute path"), std::string::npos);
}

TEST(ConnectionTest, AwsForm) {
  auto o = ok("s3://AKIDEXAMPLE:wJalr%2FK7MDENG@my-bucket/db/prod?region=eu-west-1");
  EXPECT_EQ(o.kind, StorageKind::kS3);
  EXPECT_EQ(o.access_key, "AKIDEXAMPLE");
  EXPECT_EQ(o.secret_key, "wJalr/K7MDENG");
  EXPECT_EQ(o.bucket, "my-bucket");
  EXPECT_EQ(o.prefix, "db/prod");
  EXPECT_EQ(o.region, "eu-west-1");
  EXPECT_EQ(o.endpoint, "");  // AWS itself
  EXPECT_FALSE(o.path_style);
  EXPECT_TRUE(o.verify_tls);
  EXPECT_EQ(o.connect_timeout, std::chrono::milliseconds(10000));
}

TEST(ConnectionTest, RawSlashAndPlusInSecretAreAccepted) {
  // AWS secrets contain '/' and '+'; users paste them unencoded. '+' is never a space here.
  auto o = ok("s3://AKID:wJalrXUtnFEMI/K7MDENG/bPxRfi+CYEXAMPLEKEY@bucket-1/p");
  EXPECT_EQ(o.secret_key, "wJalrXUtnFEMI/K7MDENG/bPxRfi+CYEXAMPLEKEY");
  EXPECT_EQ(o.bucket, "bucket-1");
  EXPECT_EQ(o.prefix, "p");
  // '@' in a prefix is not taken for credentials.
  auto p = ok("s3://bucket-1/users@example");
  EXPECT_EQ(p.access_key, "");
  EXPECT_EQ(p.prefix, "users@example");
}

TEST(ConnectionTest, CustomEndpointForms) {
  auto o = ok("http://KEY:SECRET@127.0.0.1:7480/s3db-test/run/1");
  EXPECT_EQ(o.endpoint, "http://127.0.0.1:7480");
  EXPECT_TRUE(o.path_style);
  EXPECT_EQ(o.bucket, "s3db-test");
  EXPECT_EQ(o.prefix, "run/1");
  EXPECT_EQ(o.access_key, "KEY");
  EXPECT_EQ(o.secret_key, "SECRET");
  auto s = ok("https://K:S@minio.example.com/Bucket_1?path_style=false&verify_tls=false");
  EXPECT_EQ(s.endpoint, "https://minio.example.com");
  EXPECT_FALSE(s.path_style);
  EXPECT_FALSE(s.verify_tls);
  EXPECT_EQ(s.bucket, "Bucket_1");
  auto v6 = ok("http://K:S@[::1]:9000/b");
  EXPECT_EQ(v6.endpoint, "http://[::1]:9000");
}

TEST(ConnectionTest, AllParams) {
  auto o = ok("s3://K:S@bucket-1?region=ap-south-1&session_token=TOKEN%2Babc&path_style=true&verify_tls=false"
              "&timeout_ms=1500&connect_timeout_ms=300&concurrency=64&max_retries=5&ca_file=%2Fetc%2Fmy%20ca.pem");
  EXPECT_EQ(o.region, "ap-south-1");
  EXPECT_EQ(o.ca_file, "/etc/my ca.pem");
  EXPECT_EQ(o.session_token, "TOKEN+abc");
  EXPECT_TRUE(o.path_style);
  EXPECT_FALSE(o.verify_tls);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.connect_timeout, std::chrono::milliseconds(300));
  EXPECT_EQ(o.concurrency, 64);
  EXPECT_EQ(o.max_retries, 5);
}

// The defaults docs/connection-strings.md promises: a remote store can never hang a call for good.
TEST(ConnectionTest, RemoteStoresHaveTimeoutsAndBodyCapsByDefault) {
  for (const char* uri : {"s3://K:S@bucket-1", "http://K:S@127.0.0.1:7480/b", "https://K:S@host/b"}) {
    auto o = ok(uri);
    EXPECT_EQ(o.timeout, std::chrono::milliseconds(60000)) << uri;
    EXPECT_EQ(o.connect_timeout, std::chrono::milliseconds(10000)) << uri;
    EXPECT_EQ(o.low_speed_limit, 1) << uri;
    EXPECT_EQ(o.low_speed_time, std::chrono::seconds(30)) << uri;
    EXPECT_EQ(o.max_response_bytes, 16u * 1024 * 1024) << uri;
    EXPECT_EQ(o.max_object_bytes, 5ull * 1024 * 1024 * 1024) << uri;
  }
  // Local stores keep no per-attempt timeout unless asked (a local call cannot stall on a peer).
  EXPECT_EQ(ok("memory://b").timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(ok("file:///tmp/db").timeout, std::chrono::milliseconds(0));
  // Each is changed by its parameter; 0 turns the timeout and the low-speed check off.
  auto o = ok("http://K:S@127.0.0.1:7480/b?timeout_ms=0&low_speed_limit=0&low_speed_time_s=5"
              "&max_response_bytes=4096&max_object_bytes=1");
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(o.low_speed_limit, 0);
  EXPECT_EQ(o.low_speed_time, std::chrono::seconds(5));
  EXPECT_EQ(o.max_response_bytes, 4096u);
  EXPECT_EQ(o.max_object_bytes, 1u);
  EXPECT_NE(error_of("s3://bucket-1?low_speed_time_s=-1").find("'low_speed_time_s' must be an integer in 0..86400"),
            std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?max_response_bytes=100").find("'max_response_bytes' must be an integer in 1024.."),
            std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?max_object_bytes=0").find("'max_object_bytes'"), std::string::npos);
  EXPECT_NE(error_of("memory://b?max_object_bytes=1").find("unknown parameter 'max_object_bytes'"), std::string::npos);
}

TEST(ConnectionTest, EnvironmentFallbacks) {
  EnvMap env = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                {"AWS_SESSION_TOKEN", "ENVTOKEN"}, {"AWS_DEFAULT_REGION", "eu-north-1"}};
  auto o = ok("s3://bucket-1/p", env);
  EXPECT_EQ(o.access_key, "ENVKEY");
  EXPECT_EQ(o.secret_key, "ENVSECRET");
  EXPECT_EQ(o.session_token, "ENVTOKEN");
  EXPECT_EQ(o.region, "eu-north-1");
  // AWS_REGION beats AWS_DEFAULT_REGION; the URI beats both.
  env["AWS_REGION"] = "us-west-2";
  EXPECT_EQ(ok("s3://bucket-1", env).region, "us-west-2");
  EXPECT_EQ(ok("s3://bucket-1?region=sa-east-1", env).region, "sa-east-1");
  // URI credentials win, and the environment's session token is not mixed into them.
  auto u = ok("s3://URIKEY:URISECRET@bucket-1", env);
  EXPECT_EQ(u.access_key, "URIKEY");
  EXPECT_EQ(u.secret_key, "URISECRET");
  EXPECT_EQ(u.session_token, "");
  // Default region without any environment.
  EXPECT_EQ(ok("s3://bucket-1").region, "us-east-1");
}

TEST(ConnectionTest, EndpointFallbackOnlyForS3Scheme) {
  EnvMap env = {{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"}};
  auto o = ok("s3://K:S@bucket-1/p", env);
  EXPECT_EQ(o.endpoint, "http://127.0.0.1:9000");
  EXPECT_TRUE(o.path_style);
  auto h = ok("http://K:S@10.0.0.1:7480/b", env);
  EXPECT_EQ(h.endpoint, "http://10.0.0.1:7480");
  EXPECT_NE(error_of("s3://bucket-1", {{"AWS_ENDPOINT_URL", "ftp://x"}}).find("AWS_ENDPOINT_URL"), std::string::npos);
}

TEST(ConnectionTest, HalfCredentialsInEnvironmentRejected) {
  EXPECT_NE(error_of("s3://bucket-1", {{"AWS_ACCESS_KEY_ID", "K"}}).find("AWS_SECRET_ACCESS_KEY is not"),
            std::string::npos);
}

TEST(ConnectionTest, ProcessEnvironmentIsRead) {
  ::setenv("AWS_REGION", "me-south-1", 1);
  auto o = ConnectionOptions::FromUri("s3://bucket-1");
  ::unsetenv("AWS_REGION");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->region, "me-south-1");
}

TEST(ConnectionTest, UnknownParamNamedWithAllowedList) {
  auto m = error_of("s3://K:S@bucket-1?regoin=eu-west-1");
  EXPECT_NE(m.find("'regoin'"), std::string::npos) << m;
  EXPECT_NE(m.find("allowed: breaker, ca_file, concurrency, concurrency_max, concurrency_min, connect_timeout_ms, "
                   "fallback_concurrency, fallback_rate_share, global_concurrency, hedge, hedge_budget, lease_ttl_ms, "
                   "low_speed_limit, low_speed_time_s, max_object_bytes, max_response_bytes, max_retries, "
                   "path_style, rate_get, rate_put, redis, redis_key, region, retry_budget, session_token, timeout_ms, "
                   "tuner, verify_tls"),
            std::string::npos)
      << m;
  // S3-only params are unknown to memory:// and file://, whose list is shorter.
  auto mem = error_of("memory://b?region=x");
  EXPECT_NE(mem.find("'region'"), std::string::npos) << mem;
  EXPECT_NE(mem.find("allowed: breaker, concurrency, concurrency_max, concurrency_min, fallback_concurrency, "
                     "fallback_rate_share, global_concurrency, lease_ttl_ms, max_retries, rate_get, rate_put, redis, "
                     "redis_key, retry_budget, timeout_ms, tuner"),
            std::string::npos)
      << mem;
}

TEST(ConnectionTest, MalformedUrisAreClearErrors) {
  EXPECT_NE(error_of("bucket/prefix").find("missing scheme"), std::string::npos);
  EXPECT_NE(error_of("ftp://host/b").find("unsupported scheme 'ftp://'"), std::string::npos);
  EXPECT_NE(error_of("s3://").find("missing bucket"), std::string::npos);
  EXPECT_NE(error_of("s3://Bad_Bucket").find("invalid bucket name 'Bad_Bucket'"), std::string::npos);
  EXPECT_NE(error_of("http://K:S@host:99999/b").find("invalid port '99999'"), std::string::npos);
  EXPECT_NE(error_of("http://K:S@host:7480").find("missing bucket"), std::string::npos);
  EXPECT_NE(error_of("http://K:S@/b").find("missing host"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?timeout_ms").find("needs a value"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?concurrency=2&concurrency=3").find("given twice"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?concurrency=0").find("'concurrency' must be auto or an integer in 1..100000"),
            std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?timeout_ms=12x").find("'timeout_ms'"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?verify_tls=yes").find("true or false"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?ca_file=").find("'ca_file'"), std::string::npos);
  EXPECT_NE(error_of("memory://b?ca_file=/x.pem").find("'ca_file'"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?path_style=1").find("true or false"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1/a%zzb").find("percent-encoding"), std::string::npos);
  EXPECT_NE(error_of("s3://KEYONLY@bucket-1").find("KEY:SECRET"), std::string::npos);
  EXPECT_NE(error_of("s3://:LongSecret@bucket-1").find("KEY:SECRET"), std::string::npos);
  EXPECT_NE(error_of("memory://K:S@b").find("no credentials"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1#frag").find("'#'"), std::string::npos);
}

// The pool's params: concurrency=auto|N and the tuner's, breaker, retry_budget; remote stores tune
// themselves and are protected by default, memory:// and file:// leave the caller's pool alone.
TEST(ConnectionTest, PoolParamsAndTheRemoteDefaults) {
  for (const char* remote : {"s3://bucket-1", "http://K:S@127.0.0.1:7480/b", "https://K:S@host/b"}) {
    const auto o = ok(remote);
    EXPECT_EQ(o.concurrency, ConnectionOptions::kAutoConcurrency) << remote << ": remote stores tune themselves";
    EXPECT_EQ(o.breaker, true) << remote;
    EXPECT_FALSE(o.retry_budget) << remote << ": the budget is not a remote default (see parse_pool_params)";
    EXPECT_FALSE(o.tuner) << remote;
  }
  for (const char* local : {"memory://b", "file:///tmp/db"}) {
    const auto o = ok(local);
    EXPECT_FALSE(o.concurrency) << local;
    EXPECT_FALSE(o.breaker) << local;
    EXPECT_FALSE(o.retry_budget) << local;
  }
  // A number stays available (and turns tuning off); auto on a local store; protection both ways.
  auto fixed = ok("s3://bucket-1?concurrency=64&breaker=off&retry_budget=off");
  EXPECT_EQ(fixed.concurrency, 64);
  EXPECT_EQ(fixed.breaker, false);
  EXPECT_EQ(fixed.retry_budget, 0);
  auto tuned = ok("memory://b?concurrency=auto&tuner=note&concurrency_min=4&concurrency_max=80&breaker=on"
                  "&retry_budget=120");
  EXPECT_EQ(tuned.concurrency, ConnectionOptions::kAutoConcurrency);
  EXPECT_EQ(tuned.tuner, TunerKind::kNote);
  EXPECT_EQ(tuned.concurrency_min, 4);
  EXPECT_EQ(tuned.concurrency_max, 80);
  EXPECT_EQ(tuned.breaker, true);
  EXPECT_EQ(tuned.retry_budget, 120);
  EXPECT_EQ(ok("s3://bucket-1?concurrency=auto&tuner=aimd").tuner, TunerKind::kAimd);

  // Bad values name the parameter.
  EXPECT_NE(error_of("s3://bucket-1?concurrency=automatic").find("'concurrency' must be auto or an integer"),
            std::string::npos);
  EXPECT_NE(error_of("memory://b?concurrency=-3").find("'concurrency'"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?tuner=pid").find("'tuner' must be aimd or note, got 'pid'"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?concurrency_min=0").find("'concurrency_min'"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?concurrency_max=x").find("'concurrency_max'"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?concurrency=auto&concurrency_min=9&concurrency_max=8").find("'concurrency_min' must not exceed"),
            std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?concurrency=8&tuner=note").find("need concurrency=auto"), std::string::npos);
  EXPECT_NE(error_of("memory://b?concurrency_max=8").find("need concurrency=auto"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?breaker=true").find("'breaker' must be on or off, got 'true'"),
            std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?retry_budget=0").find("'retry_budget' must be off or a token count"),
            std::string::npos);
  EXPECT_NE(error_of("file:///tmp/db?retry_budget=lots").find("'retry_budget'"), std::string::npos);
}

TEST(ConnectionTest, PoolParamsApplyToPoolOptions) {
  PoolOptions remote;
  ok("s3://bucket-1").apply_to(remote);
  EXPECT_TRUE(remote.adaptive.enabled) << "auto is the remote default";
  EXPECT_EQ(remote.adaptive.tuner, TunerKind::kAimd);
  EXPECT_TRUE(remote.adaptive.send_rate);
  EXPECT_EQ(remote.concurrency, 0) << "the memory-based start value";
  EXPECT_TRUE(remote.breaker.enabled);
  EXPECT_FALSE(remote.retry_budget.enabled) << "nor the budget: behind a throttling store it failed records";

  PoolOptions tuned;
  ok("s3://bucket-1?concurrency=auto&retry_budget=500").apply_to(tuned);
  EXPECT_TRUE(tuned.adaptive.enabled);
  EXPECT_EQ(tuned.adaptive.tuner, TunerKind::kAimd);
  EXPECT_EQ(tuned.concurrency, 0) << "the memory-based start value";
  EXPECT_TRUE(tuned.retry_budget.enabled);
  EXPECT_EQ(tuned.retry_budget.capacity, 500);

  PoolOptions note;
  ok("s3://bucket-1?concurrency=auto&tuner=note&concurrency_min=3&concurrency_max=30&retry_budget=50").apply_to(note);
  EXPECT_EQ(note.adaptive.tuner, TunerKind::kNote);
  EXPECT_EQ(note.adaptive.min_concurrency, 3);
  EXPECT_EQ(note.adaptive.max_concurrency, 30);
  EXPECT_EQ(note.retry_budget.capacity, 50);

  PoolOptions fixed;
  fixed.adaptive.enabled = true;
  ok("s3://bucket-1?concurrency=12&breaker=off&retry_budget=off").apply_to(fixed);
  EXPECT_FALSE(fixed.adaptive.enabled);
  EXPECT_EQ(fixed.concurrency, 12);
  EXPECT_FALSE(fixed.breaker.enabled);
  EXPECT_FALSE(fixed.retry_budget.enabled);

  PoolOptions local;  // memory:// says nothing: the caller's options stand
  local.concurrency = 7;
  ok("memory://b").apply_to(local);
  EXPECT_EQ(local.concurrency, 7);
  EXPECT_FALSE(local.adaptive.enabled);
  EXPECT_FALSE(local.breaker.enabled);
  EXPECT_FALSE(local.retry_budget.enabled);
}

TEST(ConnectionTest, HedgeParams) {
  EXPECT_TRUE(ok("s3://bucket-1").hedge) << "on by default for remote stores";
  EXPECT_DOUBLE_EQ(ok("s3://bucket-1").hedge_budget, 0.05);
  EXPECT_FALSE(ok("http://K:S@h:1/b?hedge=off").hedge);
  EXPECT_DOUBLE_EQ(ok("http://K:S@h:1/b?hedge_budget=0.2").hedge_budget, 0.2);
  EXPECT_EQ(ok("http://K:S@h:1/b").to_string(), "http://K:***@h:1/b") << "defaults are not spelled out";
  EXPECT_EQ(ok("http://K:S@h:1/b?hedge=off&hedge_budget=0.125").to_string(),
            "http://K:***@h:1/b?hedge=off&hedge_budget=0.125");
  for (const char* bad : {"s3://bucket-1?hedge=yes", "s3://bucket-1?hedge_budget=0", "s3://bucket-1?hedge_budget=1.5",
                          "s3://bucket-1?hedge_budget=five", "s3://bucket-1?hedge_budget=-0.1"}) {
    const std::string m = error_of(bad);
    EXPECT_NE(m.find("'hedge"), std::string::npos) << bad << " → " << m;
  }
  EXPECT_NE(error_of("memory://b?hedge=on").find("unknown parameter 'hedge'"), std::string::npos)
      << "only remote stores hedge";
}

TEST(ConnectionTest, PoolParamsRoundTripThroughToString) {
  // Defaults are not spelled out; anything else is.
  EXPECT_EQ(ok("http://K:S@h:1/b").to_string(), "http://K:***@h:1/b");
  EXPECT_EQ(ok("http://K:S@h:1/b?concurrency=auto").to_string(), "http://K:***@h:1/b") << "auto: the remote default";
  EXPECT_EQ(ok("http://K:S@h:1/b?tuner=note").tuner, TunerKind::kNote) << "a remote store is auto already";
  EXPECT_EQ(ok("memory://b?breaker=on&concurrency=auto&concurrency_min=3&retry_budget=500").to_string(),
            "memory://b?breaker=on&concurrency=auto&concurrency_min=3&retry_budget=500");
  for (const char* uri : {"s3://bucket-1", "s3://bucket-1?breaker=off&concurrency=9&retry_budget=off",
                          "s3://bucket-1?concurrency=auto&concurrency_max=40&retry_budget=80&tuner=note", "file:///tmp/db?concurrency=auto"}) {
    const auto o = ok(uri);
    const auto back = ok(o.to_string());
    EXPECT_EQ(back.concurrency, o.concurrency) << uri;
    EXPECT_EQ(back.tuner, o.tuner) << uri;
    EXPECT_EQ(back.concurrency_min, o.concurrency_min) << uri;
    EXPECT_EQ(back.concurrency_max, o.concurrency_max) << uri;
    EXPECT_EQ(back.breaker, o.breaker) << uri;
    EXPECT_EQ(back.retry_budget, o.retry_budget) << uri;
  }
}

// A secret that also appears where an error echoes input must never be shown.
TEST(ConnectionTest, SecretsNeverInErrors) {
  const std::string secret = "Sup3rS3cretValue";
  for (const std::string& uri : {
           "s3://AKID:" + secret + "@bucket-1?timeout_ms=" + secret,
           "s3://AKID:" + secret + "@bucket-1?" + secret + "=1",
           "http://AKID:" + secret + "@host:7480/b?region=" + secret + "!",
           "s3://AKID:" + secret + "@bucket-1?verify_tls=" + secret,
           "s3://bucket-1?session_token=" + secret + "&path_style=" + secret,
       }) {
    auto r = parse(uri);
    ASSERT_FALSE(r.ok()) << uri;
    EXPECT_EQ(r.status().message().find(secret), std::string::npos) << r.status().to_string();
    EXPECT_NE(r.status().message().find("***"), std::string::npos) << r.status().to_string();
  }
  // Secrets from the environment are scrubbed too, and percent-encoded forms as well.
  auto env = parse("s3://bucket-1?max_retries=" + secret, {{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", secret}});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().message().find(secret), std::string::npos) << env.status().to_string();
  auto enc = parse("s3://AKID:a%2Fb" + secret + "@bucket-1?timeout_ms=a/b" + secret);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().message().find(secret), std::string::npos) << enc.status().to_string();
  // A secret with an unencoded ':' that lands in the bucket position is not echoed either.
  auto colon = parse("s3://" + secret + ":x/y");
  ASSERT_FALSE(colon.ok());
  EXPECT_EQ(colon.status().message().find(secret), std::string::npos) << colon.status().to_string();
}

// The pool's params echo bad values too: a secret with every reserved character, given as the
// value of each of them (a pasted-in-the-wrong-place secret), is never shown, raw or encoded.
TEST(ConnectionTest, SecretsNeverInPoolParamErrors) {
  const std::string raw = "p?@/%:Sx9Secret";
  const std::string enc = "p%3F%40%2F%25%3ASx9Secret";
  for (const char* param : {"concurrency", "tuner", "concurrency_min", "concurrency_max", "breaker", "retry_budget"}) {
    for (const std::string& uri : {"s3://AKID:" + enc + "@bucket-1?concurrency=auto&" + param + "=" + enc,
                                   "http://AKID:" + enc + "@127.0.0.1:7480/b?" + std::string(param) + "=" + enc}) {
      auto r = parse(uri);
      ASSERT_FALSE(r.ok()) << param;
      const std::string m = r.status().to_string();
      EXPECT_EQ(m.find(raw), std::string::npos) << m;
      EXPECT_EQ(m.find(enc), std::string::npos) << m;
      EXPECT_EQ(m.find("Sx9Secret"), std::string::npos) << m;
      EXPECT_NE(m.find(param), std::string::npos) << "the error names the parameter: " << m;
    }
  }
}

TEST(ConnectionTest, ToStringMasksSecretsAndRoundTrips) {
  const std::string uri =
      "s3://AKID:Sup3rS3cret%2Fx@bucket-1/my%20db/v1?region=eu-west-1&session_token=TOK3N&timeout_ms=900"
      "&concurrency=8&max_retries=2&verify_tls=false&connect_timeout_ms=500&ca_file=/etc/ssl/private-ca.pem"
      "&low_speed_limit=100&low_speed_time_s=7&max_response_bytes=65536&max_object_bytes=1000000";
  auto o = ok(uri);
  const std::string s = o.to_string();
  EXPECT_EQ(s.find("Sup3rS3cret"), std::string::npos) << s;
  EXPECT_EQ(s.find("TOK3N"), std::string::npos) << s;
  EXPECT_NE(s.find("AKID:***@"), std::string::npos) << s;
  EXPECT_NE(s.find("session_token=***"), std::string::npos) << s;
  auto back = ok(s);
  EXPECT_EQ(back.kind, o.kind);
  EXPECT_EQ(back.bucket, o.bucket);
  EXPECT_EQ(back.prefix, "my db/v1");
  EXPECT_EQ(back.region, o.region);
  EXPECT_EQ(back.access_key, o.access_key);
  EXPECT_EQ(back.timeout, o.timeout);
  EXPECT_EQ(back.connect_timeout, o.connect_timeout);
  EXPECT_EQ(back.low_speed_limit, 100);
  EXPECT_EQ(back.low_speed_time, std::chrono::seconds(7));
  EXPECT_EQ(back.max_response_bytes, 65536u);
  EXPECT_EQ(back.max_object_bytes, 1000000u);
  EXPECT_EQ(back.concurrency, o.concurrency);
  EXPECT_EQ(back.max_retries, o.max_retries);
  EXPECT_EQ(back.verify_tls, o.verify_tls);
  EXPECT_EQ(back.ca_file, "/etc/ssl/private-ca.pem");
  EXPECT_EQ(back.path_style, o.path_style);
  EXPECT_EQ(back.endpoint, o.endpoint);

  EXPECT_EQ(ok("http://K:S@127.0.0.1:7480/s3db-test/p").to_string(), "http://K:***@127.0.0.1:7480/s3db-test/p");
  // A remote store without a timeout says so (the default would otherwise come back).
  EXPECT_EQ(ok("http://K:S@127.0.0.1:7480/b?timeout_ms=0").to_string(), "http://K:***@127.0.0.1:7480/b?timeout_ms=0");
  EXPECT_EQ(ok(ok("http://K:S@127.0.0.1:7480/b?timeout_ms=0").to_string()).timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(ok("memory://b/x/y").to_string(), "memory://b/x/y");
  EXPECT_EQ(ok("file:///tmp/db?concurrency=3").to_string(), "file:///tmp/db?concurrency=3");
  // Credentials from the environment are masked the same way.
  auto env = ok("s3://bucket-1", {{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"}});
  EXPECT_EQ(env.to_string(), "s3://K:***@bucket-1?region=us-east-1");
}

// The shared limit's params (issue 11): every store takes them, into ConnectionOptions::shared.
TEST(ConnectionTest, SharedLimitParamsAreParsedForEveryStore) {
  const std::string params =
      "redis=redis://127.0.0.1:6379/2&redis_key=app%3Alimit&global_concurrency=64&rate_put=3500&rate_get=5500.5"
      "&lease_ttl_ms=3000&fallback_concurrency=0&fallback_rate_share=0.5";
  for (std::string base : {"memory://b?", "file:///tmp/db?", "s3://bucket-1/p?", "http://K:S@127.0.0.1:7480/b?",
                                  "https://K:S@host/b?"}) {
    const auto o = ok(base + params);
    EXPECT_EQ(o.shared.redis_url, "redis://127.0.0.1:6379/2") << base;
    EXPECT_EQ(o.shared.key, "app:limit") << base;
    EXPECT_EQ(o.shared.global_concurrency, 64) << base;
    EXPECT_EQ(o.shared.rate_put, 3500) << base;
    EXPECT_EQ(o.shared.rate_get, 5500.5) << base;
    EXPECT_EQ(o.shared.lease_ttl, std::chrono::milliseconds(3000)) << base;
    EXPECT_EQ(o.shared.fallback, 0) << base;
    EXPECT_EQ(o.shared.fallback_rate_share, 0.5) << base;
  }
  // Nothing asked: SharedLimitConfig's defaults, no Redis.
  const auto none = ok("s3://bucket-1");
  EXPECT_EQ(none.shared.redis_url, "");
  EXPECT_EQ(none.shared.global_concurrency, 0);
  EXPECT_EQ(none.shared.rate_put, 0);
  EXPECT_EQ(none.shared.key, "") << "the Client names it after the store";
  EXPECT_EQ(none.shared.lease_ttl, std::chrono::milliseconds(10000));
  EXPECT_EQ(none.shared.fallback, 4);
  EXPECT_EQ(none.shared.fallback_rate_share, 0.25);
  // A local rate cap needs no Redis, on any store; decimals and exponents are numbers.
  const auto local = ok("memory://b?rate_put=0.5&rate_get=1e3");
  EXPECT_EQ(local.shared.redis_url, "");
  EXPECT_EQ(local.shared.rate_put, 0.5);
  EXPECT_EQ(local.shared.rate_get, 1000);
  // Only a rate shared through Redis, and a unix socket.
  const auto unix_socket = ok("file:///tmp/db?redis=unix:///run/redis.sock?db=3&rate_get=100");
  EXPECT_EQ(unix_socket.shared.redis_url, "unix:///run/redis.sock?db=3");
  EXPECT_EQ(unix_socket.shared.rate_get, 100);
}

TEST(ConnectionTest, SharedLimitBadValuesNameTheParameter) {
  const std::string redis = "s3://bucket-1?redis=redis://127.0.0.1:6379/0&";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {redis + "global_concurrency=0", "'global_concurrency' must be an integer in 1..100000, got '0'"},
      {redis + "global_concurrency=-2", "'global_concurrency' must be an integer in 1..100000"},
      {redis + "global_concurrency=8x", "'global_concurrency' must be an integer"},
      {redis + "global_concurrency=100001", "'global_concurrency' must be an integer"},
      {"memory://b?rate_put=0", "'rate_put' must be a rate in requests per second, 0.001..1e9 (decimals allowed), got '0'"},
      {"memory://b?rate_put=-1", "'rate_put' must be a rate"},
      {"memory://b?rate_get=fast", "'rate_get' must be a rate"},
      {"memory://b?rate_get=nan", "'rate_get' must be a rate"},
      {"memory://b?rate_get=inf", "'rate_get' must be a rate"},
      {"memory://b?rate_get=%2B5", "'rate_get' must be a rate"},
      {"memory://b?rate_get=", "'rate_get' must be a rate"},
      {redis + "rate_put=1&lease_ttl_ms=99", "'lease_ttl_ms' must be an integer in 100..3600000, got '99'"},
      {redis + "rate_put=1&fallback_concurrency=-1", "'fallback_concurrency' must be an integer in 0..100000"},
      {redis + "rate_put=1&fallback_rate_share=1.5", "'fallback_rate_share' must be a share in 0..1"},
      {redis + "rate_put=1&redis_key=", "'redis_key' is empty"},
      {redis + "rate_put=1&rate_put=2", "parameter 'rate_put' given twice"},
      {"s3://bucket-1?redis=redis://127.0.0.1:99999/0&rate_put=1", "parameter 'redis' must be redis://"},
      {"s3://bucket-1?redis=redis://127.0.0.1:99999/0&rate_put=1", "the port must be 1..65535"},
      {"s3://bucket-1?redis=redis://127.0.0.1/db1&rate_put=1", "the database after '/' must be a number"},
      {"s3://bucket-1?redis=localhost:6379&rate_put=1", "must start with redis:// or unix://"},
      {"s3://bucket-1?redis=&rate_put=1", "must start with redis:// or unix://"},
      {"s3://bucket-1?redis=unix://run/r.sock&rate_put=1", "needs an absolute socket path"},
      {"s3://bucket-1?redis=redis%3A%2F%2Fh%3Ax&rate_put=1", "the port must be 1..65535"},
      {"s3://bucket-1?redis=redis%zz&rate_put=1", "invalid percent-encoding in parameter 'redis'"},
  };
  for (const auto& [uri, expected] : cases) {
    const std::string m = error_of(uri);
    EXPECT_NE(m.find(expected), std::string::npos) << uri << "\n  → " << m;
  }
}

// What check(SharedLimitConfig) refuses, said with the parameters' names; and what only means
// something with Redis needs it.
TEST(ConnectionTest, SharedLimitRulesBetweenParams) {
  EXPECT_NE(error_of("s3://bucket-1?global_concurrency=8").find("parameter 'global_concurrency' needs a Redis URL (redis)"),
            std::string::npos);
  EXPECT_NE(error_of("memory://b?redis=redis://h:6379/0").find("parameter 'redis' shares nothing: set global_concurrency, "
                                                               "rate_put or rate_get"),
            std::string::npos);
  EXPECT_NE(error_of("memory://b?redis=redis://h:6379/0&lease_ttl_ms=500").find("parameter 'redis' shares nothing"),
            std::string::npos);
  for (const char* param : {"redis_key=k", "lease_ttl_ms=500", "fallback_concurrency=2", "fallback_rate_share=0.1"}) {
    const std::string m = error_of(std::string("memory://b?rate_put=10&") + param);
    const std::string name = std::string(param).substr(0, std::string(param).find('='));
    EXPECT_NE(m.find("parameter '" + name + "' needs a Redis URL (redis)"), std::string::npos) << m;
  }
  // Rates alone, with Redis: shared rates, no concurrency limit.
  const auto rates = ok("s3://bucket-1?redis=redis://h/0&rate_put=3500&rate_get=5500");
  EXPECT_EQ(rates.shared.global_concurrency, 0);
  EXPECT_EQ(rates.shared.rate_put, 3500);
  // An unknown parameter beside them is still refused, and a near miss of one of them too.
  EXPECT_NE(error_of("memory://b?rate_put=10&rate_post=5").find("unknown parameter 'rate_post'"), std::string::npos);
  EXPECT_NE(error_of("s3://bucket-1?redis=redis://h/0&global_concurency=4").find("unknown parameter 'global_concurency'"),
            std::string::npos);
}

// An '@' in a redis= value is the Redis URL's: the store's credentials, raw characters and all,
// are read as without it.
TEST(ConnectionTest, StoreCredentialsBesideARedisUrl) {
  struct Case {
    std::string uri, secret, endpoint, bucket, prefix;
  };
  const std::string redis = "redis=redis://user:pw@127.0.0.1:6379/0&global_concurrency=8";
  for (const Case& c : std::vector<Case>{
           {"http://AK:SK@127.0.0.1:7480/bucket?" + redis, "SK", "http://127.0.0.1:7480", "bucket", ""},
           {"http://AK:S/K@127.0.0.1:7480/bucket/p?" + redis, "S/K", "http://127.0.0.1:7480", "bucket", "p"},
           {"http://AK:S%40K@127.0.0.1:7480/bucket?" + redis, "S@K", "http://127.0.0.1:7480", "bucket", ""},
           {"s3://AK:wJalr/K7+x@bucket-1/p?" + redis, "wJalr/K7+x", "", "bucket-1", "p"},
           {"s3://AK:SK@bucket-1/p?redis=redis://:pw@redis-host/0&rate_put=5", "SK", "", "bucket-1", "p"},
           {"s3://AK:SK@bucket-1?redis=redis://:pw@redis-host/0&rate_put=5", "SK", "", "bucket-1", ""},
           {"http://AK:SK@127.0.0.1:7480/b?rate_put=5&redis=redis%3A%2F%2F%3Apw%40127.0.0.1%3A6379", "SK",
            "http://127.0.0.1:7480", "b", ""},
       }) {
    const auto o = ok(c.uri);
    EXPECT_EQ(o.access_key, "AK") << c.uri;
    EXPECT_EQ(o.secret_key, c.secret) << c.uri;
    EXPECT_EQ(o.endpoint, c.endpoint) << c.uri;
    EXPECT_EQ(o.bucket, c.bucket) << c.uri;
    EXPECT_EQ(o.prefix, c.prefix) << c.uri;
    EXPECT_NE(o.shared.redis_url.find(":pw@"), std::string::npos) << c.uri;
  }
  // Without store credentials, the Redis URL's '@' is not taken for theirs either.
  for (std::string base : {"s3://bucket-1?", "s3://bucket-1/p?", "http://127.0.0.1:7480/b?", "memory://b?"}) {
    for (std::string url : {"redis://:pw@h:6379/0", "redis://:pw@bucket-2/0"}) {
      const auto o = ok(base + "redis=" + url + "&rate_put=1");
      EXPECT_EQ(o.access_key, "") << base << url;
      EXPECT_EQ(o.shared.redis_url, url) << base;
    }
  }
}

TEST(ConnectionTest, SharedLimitParamsRoundTripThroughToString) {
  // Shown when set (the Redis URL as given, raw), defaults left out, sorted with the others.
  EXPECT_EQ(ok("memory://b?rate_put=0.5").to_string(), "memory://b?rate_put=0.5");
  EXPECT_EQ(ok("memory://b?redis=redis://127.0.0.1:6379/0&global_concurrency=64&rate_put=3500&rate_get=5500").to_string(),
            "memory://b?global_concurrency=64&rate_get=5500&rate_put=3500&redis=redis://127.0.0.1:6379/0");
  EXPECT_EQ(ok("http://K:S@h:1/b?redis=unix:///run/r.sock?db=2&rate_get=10&redis_key=a%2Fb&lease_ttl_ms=2500"
               "&fallback_concurrency=1&fallback_rate_share=0.1").to_string(),
            "http://K:***@h:1/b?fallback_concurrency=1&fallback_rate_share=0.1&lease_ttl_ms=2500&rate_get=10"
            "&redis=unix:///run/r.sock?db=2&redis_key=a%2Fb");
  for (const char* uri : {"memory://b?rate_put=0.5&rate_get=1e-3",
                          "file:///tmp/db?redis=redis://h/0&global_concurrency=3&redis_key=k%26v",
                          "s3://bucket-1?redis=unix:///run/r.sock?db=2&rate_get=10&lease_ttl_ms=2500&fallback_concurrency=0",
                          "http://K:S@h:1/b?redis=redis%3A%2F%2Fx%3A6380%2F1&rate_put=7&fallback_rate_share=1"}) {
    const auto o = ok(uri);
    const auto back = ok(o.to_string());
    EXPECT_EQ(back.shared.redis_url, o.shared.redis_url) << uri;
    EXPECT_EQ(back.shared.key, o.shared.key) << uri;
    EXPECT_EQ(back.shared.global_concurrency, o.shared.global_concurrency) << uri;
    EXPECT_EQ(back.shared.rate_put, o.shared.rate_put) << uri;
    EXPECT_EQ(back.shared.rate_get, o.shared.rate_get) << uri;
    EXPECT_EQ(back.shared.lease_ttl, o.shared.lease_ttl) << uri;
    EXPECT_EQ(back.shared.fallback, o.shared.fallback) << uri;
    EXPECT_EQ(back.shared.fallback_rate_share, o.shared.fallback_rate_share) << uri;
    EXPECT_EQ(ok(back.to_string()).to_string(), back.to_string()) << uri;
  }
  // With a password: masked, and what comes back is the mask, never the password.
  const auto pw = ok("s3://bucket-1?redis=redis://app:s3cr3t@h:6379/0&global_concurrency=2");
  EXPECT_EQ(pw.to_string(), "s3://bucket-1?global_concurrency=2&redis=redis://app:***@h:6379/0&region=us-east-1");
  EXPECT_EQ(ok(pw.to_string()).shared.redis_url, "redis://app:***@h:6379/0");
  // A user alone might be a password written without its ':': masked too.
  EXPECT_EQ(ok("s3://bucket-1?redis=redis://s3cr3t@h/0&rate_put=1").to_string(),
            "s3://bucket-1?rate_put=1&redis=redis://***@h/0&region=us-east-1");
}

}  // namespace
}  // namespace s3db
