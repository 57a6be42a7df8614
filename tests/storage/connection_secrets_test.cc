// Secrets in connection strings: every error path of the parser, with secrets holding each
// reserved character raw, must not show the secret nor any 4-byte piece of it; percent-encoded
// secrets parse exactly; redact_uri(), to_string() and describe() mask; control bytes are refused.
// The same for the Redis password of a redis= value, in each way it may be written.
#include "s3db/connection.h"

#include "coord/redis_connection.h"
#include "core/encoding.h"
#include "s3db/client.h"
#include "s3db/storage_client.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace s3db {
namespace {

using EnvMap = std::map<std::string, std::string, std::less<>>;

Result<ConnectionOptions> parse(std::string_view uri, const EnvMap& env = {}) {
  return ConnectionOptions::FromUriWithEnv(uri, [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

// The first 4-byte piece of `secret` found in `text`, or "" when there is none.
std::string piece_of(const std::string& secret, const std::string& text) {
  for (std::size_t i = 0; i + 4 <= secret.size(); ++i) {
    if (text.find(secret.substr(i, 4)) != std::string::npos) return secret.substr(i, 4);
  }
  return {};
}

// Letters no message of the parser contains four of in a row, around the reserved character.
std::string secret_with(char reserved) {
  return std::string("Zq9") + reserved + "Xj7Wk" + reserved + "5Vv8";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
  return s;
}

struct ErrorCase {
  const char* path;      // which `return fail(...)` of connection.cc it aims at
  std::string uri;       // "{S}" is replaced by the secret, raw
  EnvMap env = {};       // values may hold "{S}" too
  // Reserved characters with which `uri` is a valid string with other credentials: "Zq9:Xj7..."
  // is KEY:SECRET, "AKID:Zq9@Xj7Wk@5Vv8/b" has the host 5Vv8. Nobody can tell those apart.
  std::string reads_as_credentials_with = "";
};

// One case per error return of src/storage/connection.cc, the secret written raw in the userinfo
// (or in the environment, for the fallbacks' errors).
std::vector<ErrorCase> error_cases() {
  return {
      {"control byte", "s3://AKID:{S}@bucket-1/a%00b"},
      {"control byte, raw", std::string("s3://AKID:{S}@bucket-1/a") + '\n' + "b"},
      {"missing scheme", "AKID:{S}@bucket-1"},
      {"'#' refused", "s3://AKID:{S}@bucket-1/p#frag"},
      {"key without secret", "s3://{S}@bucket-1", {}, ":"},
      {"ambiguous '@'", "s3://AKID:{S}@bucket-1/users@example"},
      {"ambiguous '@', http", "http://AKID:{S}@host-1/b/users@example.com"},
      {"memory takes no credentials", "memory://AKID:{S}@b"},
      {"file: bad percent-encoding", "file:///tmp/%zz/AKID:{S}@x"},
      {"file: not absolute", "file://AKID:{S}@/tmp/x"},
      {"unsupported scheme", "ftp://AKID:{S}@host/b"},
      {"parameter name percent-encoding", "s3://AKID:{S}@bucket-1?%zz=1"},
      {"unknown parameter", "s3://AKID:{S}@bucket-1?regoin=eu-west-1"},
      {"parameter without value", "s3://AKID:{S}@bucket-1?timeout_ms"},
      {"parameter value percent-encoding", "s3://AKID:{S}@bucket-1?region=%zz"},
      {"parameter given twice", "s3://AKID:{S}@bucket-1?region=a&region=b"},
      {"integer: timeout_ms", "s3://AKID:{S}@bucket-1?timeout_ms=12x"},
      {"integer: connect_timeout_ms", "s3://AKID:{S}@bucket-1?connect_timeout_ms=-1"},
      {"integer: concurrency", "http://AKID:{S}@127.0.0.1:7480/b?concurrency=0"},
      {"integer: max_retries", "s3://AKID:{S}@bucket-1?max_retries=x"},
      {"integer holding the secret", "s3://AKID:{S}@bucket-1?timeout_ms={S}"},
      {"boolean: verify_tls", "s3://AKID:{S}@bucket-1?verify_tls=yes"},
      {"boolean holding the secret", "s3://AKID:{S}@bucket-1?verify_tls={S}"},
      {"region", "s3://AKID:{S}@bucket-1?region=eu%20west"},
      {"region holding the secret", "s3://AKID:{S}@bucket-1?region={S}"},
      {"empty session_token", "s3://AKID:{S}@bucket-1?session_token="},
      {"empty ca_file", "s3://AKID:{S}@bucket-1?ca_file="},
      {"credentials percent-encoding", "s3://AKID:{S}%zz@bucket-1"},
      {"empty key", "s3://:{S}@bucket-1"},
      {"bucket percent-encoding", "s3://AKID:{S}@bucket-1/%zz"},
      {"missing bucket", "s3://AKID:{S}@"},
      {"missing bucket before prefix", "s3://AKID:{S}@/p"},
      {"invalid bucket", "s3://AKID:{S}@Bad_Bucket/p"},
      {"secret where the bucket goes (no '@')", "s3://AKID:{S}/p"},
      {"half credentials in the environment", "s3://bucket-1", {{"AWS_SECRET_ACCESS_KEY", "{S}"}}},
      {"bad AWS_ENDPOINT_URL", "s3://AKID:{S}@bucket-1", {{"AWS_ENDPOINT_URL", "ftp://x"}}},
      {"AWS_ENDPOINT_URL with credentials", "s3://bucket-1", {{"AWS_ENDPOINT_URL", "http://AKID:{S}@host/"}}},
      {"boolean: path_style", "s3://AKID:{S}@bucket-1?path_style=1"},
      {"path_style holding an env secret", "s3://bucket-1?path_style={S}",
       {{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "{S}"}}},
      {"max_retries holding an env token", "s3://bucket-1?max_retries={S}", {{"AWS_SESSION_TOKEN", "{S}"}}},
      {"missing host", "http://AKID:{S}@/b"},
      {"unterminated IPv6", "http://AKID:{S}@[::1/b"},
      {"text after IPv6", "http://AKID:{S}@[::1]x/b"},
      {"invalid host", "http://AKID:{S}@ho_st/b"},
      {"invalid port", "http://AKID:{S}@host:99999/b"},
      {"port not a number", "http://AKID:{S}@host:x/b"},
      {"secret where the port goes (no '@')", "http://AKID:{S}/b", {}, "@"},
      {"http: missing bucket", "http://AKID:{S}@host:7480"},
      {"session token in an error", "s3://bucket-1?session_token={S}&timeout_ms={S}"},
  };
}

TEST(ConnectionSecrets, NoErrorShowsAnyPieceOfASecretWithReservedCharacters) {
  for (char reserved : {'?', '@', '/', '%', ':', '#', '&', '='}) {
    const std::string secret = secret_with(reserved);
    for (const ErrorCase& c : error_cases()) {
      const std::string uri = replace_all(c.uri, "{S}", secret);
      EnvMap env;
      for (const auto& [k, v] : c.env) env[k] = replace_all(v, "{S}", secret);
      auto r = parse(uri, env);
      const std::string where = std::string(c.path) + " with '" + reserved + "': " + uri;
      if (c.reads_as_credentials_with.find(reserved) != std::string::npos) continue;
      ASSERT_FALSE(r.ok()) << where << " parsed: " << r->to_string();
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << where;
      const std::string shown = r.status().to_string();
      EXPECT_EQ(piece_of(secret, shown), "") << where << "\n  → " << shown;
    }
  }
}

// Before the fix these two echoed pieces of the secret (issue 8, item 9).
TEST(ConnectionSecrets, ReservedCharactersInARawSecretAreNotEchoed) {
  auto q = parse("s3://AKID:Zq9?Xj7Wk5Vv8@bucket-1?regoin=x");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(piece_of("Zq9?Xj7Wk5Vv8", q.status().message()), "") << q.status().message();
  auto at = parse("http://AKID:Zq9@Xj7Wk5Vv8@ho_st:7480/b");
  ASSERT_FALSE(at.ok());
  EXPECT_EQ(piece_of("Zq9@Xj7Wk5Vv8", at.status().message()), "") << at.status().message();
}

TEST(ConnectionSecrets, PercentEncodedReservedCharactersGiveTheExactSecret) {
  const std::vector<std::pair<std::string, std::string>> encoded = {
      {"%3F", "?"}, {"%40", "@"}, {"%2F", "/"}, {"%25", "%"}, {"%3A", ":"}, {"%23", "#"}, {"%26", "&"},
      {"%3D", "="}, {"%20", " "}, {"%2B", "+"}, {"%5B", "["}, {"%5D", "]"}, {"%C3%A9", "\xC3\xA9"}};
  for (const auto& [enc, raw] : encoded) {
    for (const std::string& base : {std::string("s3://AKID:Zq9") + enc + "Xj7" + enc + "@bucket-1/p?region=eu-west-1",
                                    std::string("http://AKID:Zq9") + enc + "Xj7" + enc + "@127.0.0.1:7480/b/p"}) {
      auto r = parse(base);
      ASSERT_TRUE(r.ok()) << base << " → " << r.status().to_string();
      EXPECT_EQ(r->access_key, "AKID") << base;
      EXPECT_EQ(r->secret_key, "Zq9" + raw + "Xj7" + raw) << base;
      EXPECT_EQ(r->prefix, "p") << base;
      EXPECT_EQ(r->to_string().find("Zq9"), std::string::npos) << r->to_string();
    }
    auto t = parse("s3://bucket-1?session_token=T0k" + enc + "en");
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->session_token, "T0k" + raw + "en");
  }
}

TEST(ConnectionSecrets, UnambiguousRawReservedCharactersAreUnderstood) {
  struct Case {
    std::string uri, secret, bucket, prefix;
  };
  for (const Case& c : std::vector<Case>{
           {"s3://AKID:Zq9?Xj7@bucket-1/p?region=eu-west-1", "Zq9?Xj7", "bucket-1", "p"},
           {"s3://AKID:Zq9@Xj7@bucket-1/p", "Zq9@Xj7", "bucket-1", "p"},
           {"s3://AKID:Zq9/Xj7+Wk@bucket-1/p", "Zq9/Xj7+Wk", "bucket-1", "p"},
           {"s3://AKID:Zq9:Xj7@bucket-1", "Zq9:Xj7", "bucket-1", ""},
           {"s3://AKID:a/b@c/d@bucket-1/p", "a/b@c/d", "bucket-1", "p"},  // "c" is no AWS bucket
           {"http://AKID:Zq9@X_j/x@127.0.0.1:7480/b/p", "Zq9@X_j/x", "b", "p"},  // "X_j" is no host
       }) {
    auto r = parse(c.uri);
    ASSERT_TRUE(r.ok()) << c.uri << " → " << r.status().to_string();
    EXPECT_EQ(r->secret_key, c.secret) << c.uri;
    EXPECT_EQ(r->bucket, c.bucket) << c.uri;
    EXPECT_EQ(r->prefix, c.prefix) << c.uri;
  }
  // '@' in the prefix or a parameter is no credential when nothing else is.
  EXPECT_EQ(parse("http://host:7480/b/users@example.com")->prefix, "users@example.com");
  EXPECT_EQ(parse("http://host:7480/b/users@example.com")->access_key, "");
  EXPECT_EQ(parse("s3://K:S@bucket-1?ca_file=/etc/me@x.pem")->ca_file, "/etc/me@x.pem");
  EXPECT_EQ(parse("s3://K:S@bucket-1/users%40example")->prefix, "users@example");
  // Two readings: refused, not guessed.
  auto amb = parse("s3://K:S@bucket-1/users@example");
  ASSERT_FALSE(amb.ok());
  EXPECT_NE(amb.status().message().find("ambiguous"), std::string::npos) << amb.status().message();
}

TEST(ConnectionSecrets, ControlBytesAreRefusedRawOrEncoded) {
  for (const std::string& uri : {std::string("file:///tmp/db\0/evil", 20), std::string("file:///tmp/db%00/evil"),
                                 std::string("file:///tmp/a%0Ab"), std::string("memory://b\x01"),
                                 std::string("memory://b%7F"), std::string("s3://K:a%00b@bucket-1"),
                                 std::string("s3://bucket-1?region=eu\tw")}) {
    auto r = parse(uri);
    ASSERT_FALSE(r.ok()) << "parsed: " << (r.ok() ? r->path : "");
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("control character"), std::string::npos) << r.status().message();
  }
  // Before the fix the NUL cut the path: "file:///tmp/db\0/evil" opened /tmp/db.
  EXPECT_EQ(parse("file:///tmp/with%20space").ok(), true);
}

TEST(ConnectionSecrets, RedactUriMasksEvenMalformedStrings) {
  const std::string secret = "Zq9Xj7Wk5Vv8";
  EXPECT_EQ(redact_uri("s3://AKID:" + secret + "@bucket-1/p?region=eu-west-1"), "s3://AKID:***@bucket-1/p?region=eu-west-1");
  EXPECT_EQ(redact_uri("http://AKID:Zq9@Xj7?x@127.0.0.1:7480/b"), "http://AKID:***@127.0.0.1:7480/b");
  EXPECT_EQ(redact_uri("s3://bucket-1?region=x&session_token=" + secret + "&timeout_ms=1"),
            "s3://bucket-1?region=x&session_token=***&timeout_ms=1");
  EXPECT_EQ(redact_uri("s3://bucket-1?session%5Ftoken=" + secret), "s3://bucket-1?session%5Ftoken=***");
  EXPECT_EQ(redact_uri("s3://" + secret + "@bucket-1"), "s3://***@bucket-1");
  EXPECT_EQ(redact_uri("memory://b/p"), "memory://b/p");
  EXPECT_EQ(redact_uri("s3://AKID:" + secret), "s3://AKID:***");  // its '@' forgotten
  EXPECT_EQ(redact_uri("http://host:7480/b?region=x"), "http://host:7480/b?region=x");
  // An '@' in the prefix might have ended a secret: masking too much is the safe side.
  EXPECT_EQ(redact_uri("s3://bucket-1/users@example"), "s3://***@example");
  EXPECT_EQ(redact_uri("s3://b?session_token=" + secret + "&" + secret + "&region=x"), "s3://b?session_token=***&region=x");
  for (char reserved : {'?', '@', '/', '%', ':', '#', '&'}) {
    const std::string s = secret_with(reserved);
    for (const std::string& uri : {"s3://AKID:" + s + "@bucket-1?regoin=1", "http://AKID:" + s + "@host:99999/b",
                                   "AKID:" + s + "@nothing", "s3://AKID:" + s, "s3://b?session_token=" + s}) {
      if (reserved == '@' && uri == "s3://AKID:" + s) continue;  // reads as credentials and bucket "5Vv8"
      EXPECT_EQ(piece_of(s, redact_uri(uri)), "") << uri << " → " << redact_uri(uri);
    }
  }
}

TEST(ConnectionSecrets, EnvironmentSecretsNeverInToStringOrDescribe) {
  const std::string secret = "Zq9/Xj7+Wk5Vv8", token = "T0kQ/Rr8+Pp2Mm";
  const EnvMap env = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", secret}, {"AWS_SESSION_TOKEN", token}};
  for (std::string uri : {"s3://bucket-1/p", "http://127.0.0.1:7480/b/p"}) {
    auto o = parse(uri, env);
    ASSERT_TRUE(o.ok()) << o.status().to_string();
    EXPECT_EQ(o->secret_key, secret);
    EXPECT_EQ(o->session_token, token);
    EXPECT_EQ(piece_of(secret, o->to_string()), "") << o->to_string();
    EXPECT_EQ(piece_of(token, o->to_string()), "") << o->to_string();
    auto storage = make_storage_client(*o);
    ASSERT_TRUE(storage.ok()) << storage.status().to_string();
    const std::string d = (*storage)->describe();
    EXPECT_EQ(piece_of(secret, d), "") << d;
    EXPECT_EQ(piece_of(token, d), "") << d;
  }
  // The same through the URI's own credentials and a Client (no request is made).
  auto u = parse("http://AKID:" + secret + "@127.0.0.1:7480/b?session_token=" + token);
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  auto storage = make_storage_client(*u);
  ASSERT_TRUE(storage.ok());
  auto client = Client::wrap(std::shared_ptr<StorageClient>(std::move(*storage)));
  EXPECT_EQ(piece_of(secret, client->storage().describe()), "");
  EXPECT_EQ(piece_of(token, client->storage().describe()), "");
  EXPECT_EQ(piece_of(secret, u->to_string()), "");
  EXPECT_EQ(piece_of(token, u->to_string()), "");
}

// ---- The Redis password of a redis= value ----

// A password unlike secret_with()'s, so that a test of both sees which one shows.
std::string password_with(char reserved) { return std::string("Pw4") + reserved + "Qk2Rt" + reserved + "8Yy6"; }

std::string enc(std::string_view s) { return encoding::percent_encode(s, encoding::kUnreserved); }

// The ways a redis= value may carry a password: the URL raw, with the password raw or encoded as
// the Redis URL grammar says; or the URL percent-encoded whole, holding either.
enum class Form { kRaw, kRawEncodedPassword, kEncoded, kEncodedRawPassword };
constexpr Form kForms[] = {Form::kRaw, Form::kRawEncodedPassword, Form::kEncoded, Form::kEncodedRawPassword};
const char* form_name(Form f) {
  switch (f) {
    case Form::kRaw: return "raw URL, raw password";
    case Form::kRawEncodedPassword: return "raw URL, encoded password";
    case Form::kEncoded: return "encoded URL, encoded password";
    case Form::kEncodedRawPassword: return "encoded URL, raw password";
  }
  return "";
}

std::string redis_param(Form f, const std::string& password, const std::string& rest = "@127.0.0.1:6379/0") {
  const bool raw_password = f == Form::kRaw || f == Form::kEncodedRawPassword;
  const std::string url = "redis://app:" + (raw_password ? password : enc(password)) + rest;
  return "redis=" + (f == Form::kRaw || f == Form::kRawEncodedPassword ? url : enc(url));
}

// Reserved characters a raw password may hold in each form and still read exactly: the grammar
// takes the password from the first ':' to the last '@'; a raw URL ends at '&', and in either a
// raw '/' ends the host part and a raw '%' starts an escape.
bool reads_exactly(Form f, char reserved) {
  if (f == Form::kRawEncodedPassword || f == Form::kEncoded) return true;
  const std::string ok = f == Form::kRaw ? "?@:=" : "?@:=&#";
  return ok.find(reserved) != std::string::npos;
}

constexpr char kReserved[] = {'?', '@', '/', '%', ':', '&', '#', '='};

// One case per error return a redis= value can meet — its own and the parser's others with one
// present. "{R}" is the redis= param, "{S}" the store's secret.
struct RedisErrorCase {
  std::string uri;
  std::string rest = "@127.0.0.1:6379/0";  // the Redis URL after its password
  // False when the password is also pasted as another parameter's value: nothing tells
  // redact_uri() it is one there (the parser's messages still hide it).
  bool redactable = true;
};

std::vector<RedisErrorCase> redis_error_cases() {
  return {
      {"memory://b?{R}"},  // shares nothing (check())
      {"memory://b?{R}&global_concurrency=0"},
      {"memory://b?{R}&global_concurrency={R}", {}, false},
      {"s3://bucket-1?{R}&rate_put=-1"},
      {"s3://bucket-1?{R}&rate_get={R}", {}, false},
      {"memory://b?{R}&rate_put=1&lease_ttl_ms=5"},
      {"memory://b?{R}&rate_put=1&fallback_concurrency=x"},
      {"memory://b?{R}&rate_put=1&fallback_rate_share=2"},
      {"memory://b?{R}&rate_put=1&redis_key="},
      {"memory://b?{R}&rate_put=1&{R}"},  // given twice
      {"memory://b?{R}&rate_put=1&regoin=1"},
      {"memory://b?{R}&rate_put=1&timeout_ms"},
      {"memory://b?{R}&rate_put=1#frag"},
      {"memory://b?{R}&rate_put=1&region=%0A"},
      {"file://relative?{R}&rate_put=1"},
      {"memory://b?{R}&rate_put=1", "@127.0.0.1:99999/0"},  // the Redis URL's port
      {"memory://b?{R}&rate_put=1", "@127.0.0.1:6379/x"},   // its db
      {"memory://b?{R}&rate_put=1", "@:6379/0"},            // its host
      {"memory://b?{R}&rate_put=1", "%zz@127.0.0.1"},       // an escape in its password
      {"s3://AKID:{S}@bucket-1?{R}&rate_put=1&timeout_ms=x"},  // with store credentials
      {"s3://AKID:{S}@Bad_Bucket?{R}&rate_put=1"},
      {"s3://AKID:{S}@bucket-1/users@example?{R}&rate_put=1"},  // ambiguous store credentials
      {"http://AKID:{S}@127.0.0.1:99999/b?{R}&rate_put=1"},
      {"http://AKID:{S}@ho_st/b?{R}&rate_put=1"},
      {"http://AKID:{S}@127.0.0.1:7480?{R}&rate_put=1"},
  };
}

TEST(ConnectionSecrets, NoErrorShowsAnyPieceOfARedisPassword) {
  for (char reserved : kReserved) {
    const std::string password = password_with(reserved), secret = secret_with(reserved);
    for (Form f : kForms) {
      for (const RedisErrorCase& c : redis_error_cases()) {
        const std::string uri = replace_all(replace_all(c.uri, "{R}", redis_param(f, password, c.rest)), "{S}", secret);
        const std::string where = std::string(form_name(f)) + ", '" + reserved + "': " + uri;
        auto r = parse(uri);
        ASSERT_FALSE(r.ok()) << where << " parsed: " << r->to_string();
        EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << where;
        const std::string shown = r.status().to_string();
        EXPECT_EQ(piece_of(password, shown), "") << where << "\n  → " << shown;
        EXPECT_EQ(piece_of(secret, shown), "") << where << "\n  → " << shown;
        if (c.redactable) {
          EXPECT_EQ(piece_of(password, redact_uri(uri)), "") << where << "\n  → " << redact_uri(uri);
        }
      }
    }
  }
}

// Mistakes in the Redis URL itself, the password written raw where it should not be included.
TEST(ConnectionSecrets, MalformedRedisUrlsShowNoPieceOfThePassword) {
  for (char reserved : kReserved) {
    const std::string p = password_with(reserved);
    for (const std::string& value : {"redis://:" + p,                 // its '@host' forgotten
                                     "redis://" + p + "@h:6379/0",     // its ':' forgotten
                                     "redis:/:" + p + "@h",            // a '/' missing
                                     "http://:" + p + "@h",            // another scheme
                                     p + "@h:6379",                    // no scheme
                                     "redis://:" + p + "@h:6379/0/1",  // a path
                                     "unix://:" + p + "@/run/r.sock"}) {
      // Valid URLs of another reading: password "Pw4@Qk2Rt" at host "8Yy6", user "Pw4".
      if ((reserved == '@' && value == "redis://:" + p) || (reserved == ':' && value == "redis://" + p + "@h:6379/0")) continue;
      for (const std::string& v : {value, enc(value), enc(enc(value))}) {
        const std::string uri = "http://AK:SK@127.0.0.1:7480/b?redis=" + v + "&global_concurrency=2";
        auto r = parse(uri);
        if (r.ok()) {
          EXPECT_EQ(piece_of(p, r->to_string()), "") << uri << " → " << r->to_string();
        } else {
          EXPECT_EQ(piece_of(p, r.status().to_string()), "") << uri << "\n  → " << r.status().to_string();
        }
        EXPECT_EQ(piece_of(p, redact_uri(uri)), "") << uri << "\n  → " << redact_uri(uri);
      }
    }
  }
}

// The password reads back exactly in each form that allows its characters, beside store
// credentials holding the same characters, and neither shows in to_string() or redact_uri().
TEST(ConnectionSecrets, RedisPasswordsParseExactlyAndAreMasked) {
  for (char reserved : kReserved) {
    const std::string password = password_with(reserved);
    for (Form f : kForms) {
      for (const std::string& base : {std::string("memory://b?"), "s3://AKID:" + enc(secret_with(reserved)) + "@bucket-1/p?",
                                      "http://AKID:" + enc(secret_with(reserved)) + "@127.0.0.1:7480/b/p?"}) {
        const std::string uri = base + redis_param(f, password) + "&global_concurrency=4";
        const std::string where = std::string(form_name(f)) + ", '" + reserved + "': " + uri;
        auto r = parse(uri);
        EXPECT_EQ(piece_of(password, redact_uri(uri)), "") << where << "\n  → " << redact_uri(uri);
        if (!reads_exactly(f, reserved)) {
          if (r.ok()) {
            EXPECT_EQ(piece_of(password, r->to_string()), "") << where;
          }
          continue;
        }
        ASSERT_TRUE(r.ok()) << where << " → " << r.status().to_string();
        auto url = coord::parse_redis_url(r->shared.redis_url);
        ASSERT_TRUE(url.ok()) << where;
        EXPECT_EQ(url->password, password) << where;
        EXPECT_EQ(url->user, "app") << where;
        EXPECT_EQ(url->host, "127.0.0.1") << where;
        if (base != "memory://b?") {
          EXPECT_EQ(r->secret_key, secret_with(reserved)) << where;
          EXPECT_EQ(r->bucket, base.starts_with("s3") ? "bucket-1" : "b") << where;
          EXPECT_EQ(r->prefix, "p") << where;
        }
        const std::string s = r->to_string();
        EXPECT_EQ(piece_of(password, s), "") << where << " → " << s;
        EXPECT_EQ(piece_of(secret_with(reserved), s), "") << where << " → " << s;
        EXPECT_NE(s.find("redis=redis://app:***@127.0.0.1:6379/0"), std::string::npos) << s;
        EXPECT_EQ(piece_of(password, redact_uri(s)), "");
      }
    }
  }
  // The issue's example: the URL percent-encoded whole, its password holding a raw '@'.
  auto r = parse("s3://bucket/p?redis=redis%3A%2F%2F%3Apa%40ss%40127.0.0.1%3A6379%2F0&global_concurrency=64&rate_put=3500"
                 "&rate_get=5500");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(coord::parse_redis_url(r->shared.redis_url)->password, "pa@ss");
  EXPECT_EQ(r->to_string(), "s3://bucket/p?global_concurrency=64&rate_get=5500&rate_put=3500"
                            "&redis=redis://:***@127.0.0.1:6379/0&region=us-east-1");
}

TEST(ConnectionSecrets, RedactUriMasksRedisPasswords) {
  EXPECT_EQ(redact_uri("memory://?redis=redis://:pw@h:6379/0&rate_put=10"), "memory://?redis=redis://:***@h:6379/0&rate_put=10");
  EXPECT_EQ(redact_uri("s3://bucket-1?redis=redis://app:pw@h:6379/0&global_concurrency=2"),
            "s3://bucket-1?redis=redis://app:***@h:6379/0&global_concurrency=2");
  EXPECT_EQ(redact_uri("http://AK:SK@127.0.0.1:7480/b?redis=redis://app:pw@h/0&rate_put=1"),
            "http://AK:***@127.0.0.1:7480/b?redis=redis://app:***@h/0&rate_put=1");
  EXPECT_EQ(redact_uri("s3://b?redis=redis%3A%2F%2Fapp%3Apa%40ss%40h%3A6379&rate_put=1"),
            "s3://b?redis=redis%3A%2F%2Fapp%3A***%40h%3A6379&rate_put=1");
  EXPECT_EQ(redact_uri("s3://b?redis=redis%3A%2F%2Fapp%3Apa%2540ss%40h&rate_put=1"), "s3://b?redis=redis%3A%2F%2Fapp%3A***%40h&rate_put=1");
  EXPECT_EQ(redact_uri("s3://b?redis=redis://h:6379/0&rate_put=1"), "s3://b?redis=redis://h:6379/0&rate_put=1");
  EXPECT_EQ(redact_uri("s3://b?redis=unix:///run/r.sock?db=2&rate_put=1"), "s3://b?redis=unix:///run/r.sock?db=2&rate_put=1");
  EXPECT_EQ(redact_uri("s3://b?redis=redis://pw@h&rate_put=1"), "s3://b?redis=redis://***@h&rate_put=1");  // a lone TEXT@
  EXPECT_EQ(redact_uri("s3://b?redis=redis://:pw&rate_put=1"), "s3://b?redis=redis://:***&rate_put=1");      // '@host' forgotten
  EXPECT_EQ(redact_uri("s3://b?redis=pw@h&rate_put=1"), "s3://b?redis=***&rate_put=1");                    // no scheme
  EXPECT_EQ(redact_uri("s3://b?redis%5Fkey=k&red%69s=redis://:pw@h"), "s3://b?redis%5Fkey=k&red%69s=redis://:***@h");
}

}  // namespace
}  // namespace s3db
