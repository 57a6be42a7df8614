// Secrets in connection strings: every error path of the parser, with secrets holding each
// reserved character raw, must not show the secret nor any 4-byte piece of it; percent-encoded
// secrets parse exactly; redact_uri(), to_string() and describe() mask; control bytes are refused.
#include "s3db/connection.h"

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

}  // namespace
}  // namespace s3db
