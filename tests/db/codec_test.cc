#include "db/codec.h"

#include "db/crypto.h"
#include "db/ids.h"
#include "db/text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

namespace s3db::db {
namespace {

using nlohmann::json;

TEST(TextTest, Base64UrlRoundTrip) {
  for (std::string s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                        std::string("\x00\xff\x10 binary", 10)}) {
    auto enc = base64url_encode(s);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(base64url_decode(enc), s);
  }
  EXPECT_FALSE(base64url_decode("a").has_value());
  EXPECT_FALSE(base64url_decode("ab+c").has_value());
}

TEST(TextTest, Base36) {
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{35}, std::int64_t{36}, std::int64_t{-1},
                         INT64_MAX, INT64_MIN}) {
    EXPECT_EQ(from_base36(to_base36(v)), v) << v;
  }
  EXPECT_EQ(to_base36(35), "z");
  EXPECT_FALSE(from_base36("").has_value());
  EXPECT_FALSE(from_base36("A").has_value());
  EXPECT_FALSE(from_base36("zzzzzzzzzzzzz").has_value());  // overflow
}

TEST(TextTest, EscapingIsHeaderSafeAndReversible) {
  for (std::string v : {"plain", "", "~tilde", " lead", "trail ", "in side", "ção", "tab\there", "100%",
                        "~%7E", "\x7f"}) {
    std::string h, b;
    escape_value(v, true, h);
    escape_value(v, false, b);
    EXPECT_EQ(h.size(), escaped_size(v, true));
    EXPECT_EQ(b.size(), escaped_size(v, false));
    for (char c : h) EXPECT_TRUE(c >= 0x21 - (c == ' ') && c <= 0x7E) << v;  // printable ASCII
    EXPECT_NE(h.front(), ' ');
    EXPECT_NE(h.back(), ' ');
    EXPECT_EQ(unescape_value(h), v);
    EXPECT_EQ(unescape_value(b), v);
  }
  std::string raw;
  escape_value("plain 100%", true, raw);
  EXPECT_EQ(raw, "plain 100%");  // safe values travel as they are
  EXPECT_FALSE(unescape_value("~%4").has_value());
  EXPECT_FALSE(unescape_value("~%zz").has_value());
  EXPECT_EQ(key_segment("a/b=c%d é"), "a%2Fb%3Dc%25d%20%C3%A9");
}

// dump_json replaces json::dump() on the write path: same bytes for everything but floats, whose
// shortest form must still parse back to the same value and type.
TEST(TextTest, DumpJsonMatchesDump) {
  const json values[] = {
      json(), true, false, 0, -7, 42, std::numeric_limits<std::int64_t>::min(),
      std::numeric_limits<std::uint64_t>::max(), "", "plain", "quote \" back \\ slash",
      "ctl \b\f\n\r\t \x01\x1f end", "ação 日本 🚀", json::array(), json::object(),
      json::parse(R"({"b":[1,"x",{"c":null}],"a":{"z":true,"y":[[],{}]},"é":"ü"})"),
      json::array({"alpha", "gamma"})};
  for (const json& v : values) {
    std::string out;
    dump_json(v, out);
    EXPECT_EQ(out, v.dump()) << v.dump();
  }
  const double floats[] = {0.0, -0.0, 1.0, 0.1, 1234.5, -2.5e-7, 1e300, 123456789012345680.0, 3.141592653589793};
  for (double d : floats) {
    std::string out;
    dump_json(json(d), out);
    const json back = json::parse(out);
    EXPECT_TRUE(back.is_number_float()) << out;
    EXPECT_EQ(back.get<double>(), d) << out;
    EXPECT_EQ(std::signbit(back.get<double>()), std::signbit(d)) << out;
  }
  std::string nan_out;
  dump_json(json(std::nan("")), nan_out);
  EXPECT_EQ(nan_out, "null");
  std::string bad;
  EXPECT_THROW(dump_json(json(std::string("\xff\xfe")), bad), json::type_error);
}

TEST(IdsTest, RandomIdsAreUrlSafeAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto id = random_id();
    ASSERT_EQ(id.size(), 22u);
    for (char c : id) ASSERT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
  EXPECT_EQ(random_id(8).size(), 8u);
}

// An id starting with '-' reads as an option on a command line (it broke a CLI round trip once in
// ~32 runs); with 20,000 ids, a first character drawn from all 64 would hit '-' or '_' for sure.
TEST(IdsTest, RandomIdsStartWithALetterOrDigit) {
  bool saw_dash_inside = false;
  for (int i = 0; i < 20000; ++i) {
    const auto id = random_id();
    ASSERT_TRUE(isalnum(static_cast<unsigned char>(id[0]))) << id;
    saw_dash_inside |= id.find('-') != std::string::npos;
  }
  EXPECT_TRUE(saw_dash_inside);  // the rest of the id still uses the whole alphabet
}

TEST(IdsTest, CheckId) {
  EXPECT_TRUE(check_id("abc-DEF_123").ok());
  EXPECT_TRUE(check_id("ação").ok());
  for (std::string bad : {std::string(), std::string("a/b"), std::string(".."), std::string("a\nb"),
                          std::string(256, 'a'), std::string("\xff\xfe"),
                          // an overlong '/' and a UTF-16 surrogate: not UTF-8 (S3 rejects such keys)
                          std::string("a\xc0\xaf" "b"), std::string("\xed\xa0\x80")}) {
    Status s = check_id(bad);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
  }
}

TEST(CryptoTest, SealOpenAndWrongKey) {
  auto box = SecretBox::derive("correct horse", "salt-1234567890", 1000);
  ASSERT_TRUE(box.ok());
  auto sealed = (*box)->seal("my secret value", "users/password");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("secret"), std::string::npos);
  auto again = (*box)->seal("my secret value", "users/password");
  EXPECT_NE(*sealed, *again);  // fresh nonce per value
  EXPECT_EQ((*box)->open(*sealed, "users/password").value(), "my secret value");
  EXPECT_EQ((*box)->open(*sealed, "users/other").status().code(), Code::kUnauthorized);
  auto wrong = SecretBox::derive("wrong horse", "salt-1234567890", 1000);
  EXPECT_EQ((*wrong)->open(*sealed, "users/password").status().code(), Code::kUnauthorized);
  EXPECT_EQ((*box)->open("short", "x").status().code(), Code::kInternal);
  EXPECT_EQ(SecretBox::derive("", "s", 1).status().code(), Code::kInvalidArgument);
}

// What the tests' writes add to a record: its id and a stamp.
const WriteStamp kStamp{"AAAAAAAAAAAAAA", 1, ""};
const RecordBinding kW{"id1", kStamp};

class CodecTest : public ::testing::Test {
 protected:
  Layout layout(const json& attrs) {
    auto schema = Schema::compile(attrs);
    EXPECT_TRUE(schema.ok());
    json keys = json::object();
    int i = 0;
    for (const auto& f : schema->fields()) keys[f.name] = to_base36(i++);
    auto l = make_layout("things", 1, *schema, keys);
    EXPECT_TRUE(l.ok());
    return std::move(l).value();
  }
  // The stored text of integer attribute "i" of `text`, decoded back to decimal.
  std::string back_of_i(const Layout& l, const char* text) {
    auto e = encode(json::parse(text), l, MetadataBudget::kEnforceLimits, nullptr, kW);
    return e.ok() ? roundtrip(*e, l)["i"].dump() : e.status().to_string();
  }
  json roundtrip(const Encoded& e, const Layout& l, const SecretBox* box = nullptr) {
    auto d = decode(e.metadata, e.body, l, box, "id1");
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? *d : json();
  }
};

TEST_F(CodecTest, AllTypesRoundTripThroughMetadata) {
  auto l = layout({{"s", "string"}, {"n", "number"}, {"f", "number"}, {"i", "integer"}, {"b", "boolean"},
                   {"a", "array"}, {"o", "object"}, {"j", "json"}, {"d", "date"}, {"u", "string"}});
  json doc = {{"id", "id1"}, {"s", " spaced ção ~"}, {"n", 42}, {"f", -3.25}, {"i", -123456789},
              {"b", true}, {"a", {1, "x", nullptr}}, {"o", {{"k", "ü"}}}, {"j", "str"},
              {"d", "2024-01-02T03:04:05Z"}, {"u", ""}};
  auto e = encode(doc, l, MetadataBudget::kEnforceLimits, nullptr, kW);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->body, "~AAAAAAAAAAAAAA.1");  // just the write stamp
  for (const auto& [k, v] : e->metadata) {
    for (char c : v) EXPECT_TRUE(c >= 0x20 && c <= 0x7E) << k << "=" << v;
  }
  EXPECT_EQ(e->metadata.at("v-"), "1");
  EXPECT_EQ(e->metadata.at("1"), "1");  // "b" (boolean true): attributes sort a, b, d, ...
  EXPECT_EQ(roundtrip(*e, l), doc);
}

TEST_F(CodecTest, UnknownKeptAttributesAndTimestamps) {
  auto l = layout({{"s", "string"}});
  json doc = {{"id", "id1"}, {"s", "x"}, {"extra", {1, 2}}, {"createdAt", "2024-01-01T00:00:00.000Z"}};
  auto e = encode(doc, l, MetadataBudget::kUserManaged, nullptr, kW);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->metadata.count("x-"));
  EXPECT_TRUE(e->metadata.count("c-"));
  EXPECT_EQ(roundtrip(*e, l), doc);
}

// One string attribute "s" under key "0": cost = "v-"+"1" (3) + "0" (1) + escaped value.
TEST_F(CodecTest, BudgetExactlyAtAndAroundTheLimit) {
  auto l = layout({{"s", "string"}});
  for (std::size_t len : {2043u, 2044u, 2045u}) {
    json doc = {{"s", std::string(len, 'a')}};
    auto e = encode(doc, l, MetadataBudget::kEnforceLimits, nullptr, kW);
    if (len <= 2044) {
      ASSERT_TRUE(e.ok()) << len;
      EXPECT_EQ(metadata_size(e->metadata), 4 + len);
      EXPECT_LE(metadata_size(e->metadata), kMaxMetadataBytes);
    } else {
      EXPECT_EQ(e.status().code(), Code::kInvalidArgument) << len;
      EXPECT_NE(e.status().message().find("2049"), std::string::npos) << e.status().message();
    }
  }
}

TEST_F(CodecTest, MultiByteUtf8CountsEscapedBytes) {
  auto l = layout({{"s", "string"}});
  // "é" is 2 UTF-8 bytes, 6 once percent-encoded; "~" marks the escaped value.
  std::string base;
  for (int i = 0; i < 340; ++i) base += "é";
  json fits = {{"s", base + "abc"}};  // 3 + 1 + (1 + 2040 + 3) = 2048
  auto e = encode(fits, l, MetadataBudget::kEnforceLimits, nullptr, kW);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(metadata_size(e->metadata), 2048u);
  EXPECT_EQ(roundtrip(*e, l)["s"], fits["s"]);
  json over = {{"s", base + "abcd"}};
  EXPECT_EQ(encode(over, l, MetadataBudget::kEnforceLimits, nullptr, kW).status().code(), Code::kInvalidArgument);
}

// Issue 8, item 8: what S3 counts is what it receives. Values the S3 client would have to send as
// RFC 2047 words (two spaces in a row, a leading "=?") are escaped into header-safe text, so the
// bytes s3db counts are the bytes sent, and every store refuses the same records.
TEST_F(CodecTest, EscapedValuesAreSentAsIsSoTheBudgetCountsTheWire) {
  auto l = layout({{"s", "string"}});
  for (const std::string v : {"a  b", "=?UTF-8?B?YQ==?=", "   ", "x   y  z", "=?", "=x", "a b", " lead", "trail "}) {
    auto e = encode(json{{"s", v}}, l, MetadataBudget::kEnforceLimits, nullptr, kW);
    ASSERT_TRUE(e.ok()) << v;
    const std::string& stored = e->metadata.at("0");
    EXPECT_TRUE(metadata_value_is_plain(stored)) << "'" << v << "' stored as '" << stored << "'";
    EXPECT_EQ(metadata_value_size(stored), stored.size());
    EXPECT_EQ(roundtrip(*e, l)["s"], v);
  }
  // At the limit: 1,021 double spaces escape to "~" + 1,021 × " %20" = 4,085 bytes — over 2 KB
  // although the raw value is 2,042 bytes. Before, it counted 2,046 and went out as a 2,740-byte
  // RFC 2047 word that AWS refuses.
  std::string spaces;
  for (int i = 0; i < 1021; ++i) spaces += "x  ";
  EXPECT_EQ(encode(json{{"s", spaces}}, l, MetadataBudget::kEnforceLimits, nullptr, kW).status().code(),
            Code::kInvalidArgument);
  auto overflow = encode(json{{"s", spaces}}, l, MetadataBudget::kUserManaged, nullptr, kW);
  ASSERT_TRUE(overflow.ok());
  EXPECT_TRUE(overflow->moved_to_body);
  EXPECT_LE(metadata_size(overflow->metadata), kMaxMetadataBytes);
}

// The count every client applies (s3db/metadata.h): names + values as sent.
TEST(MetadataSizeTest, CountsValuesInTheFormTheyAreSent) {
  EXPECT_EQ(metadata_value_size("plain text"), 10u);
  EXPECT_EQ(metadata_value_size(""), 0u);
  EXPECT_EQ(metadata_value_size("é"), 12u + 4u);             // =?UTF-8?B?w6k=?=
  EXPECT_EQ(metadata_value_size("a  b"), 12u + 8u);          // =?UTF-8?B?YSAgYg==?=
  EXPECT_EQ(metadata_value_size(std::string(3, '\x01')), 12u + 4u);
  Metadata m{{"k", "é"}, {"n", "v"}};
  EXPECT_EQ(metadata_size(m), 1u + 16u + 1u + 1u);
}

// Issue 8, item 3: integers are int64 — what does not fit is refused, naming the field, never
// rewritten (2^64-1 was stored as -1, 1e19 as INT64_MIN).
TEST_F(CodecTest, IntegersOutsideInt64AreRefusedNeverRewritten) {
  auto schema = Schema::compile({{"i", "integer"}, {"n", "number"}}).value();
  for (const char* text : {R"({"i": 18446744073709551615})", R"({"i": 9223372036854775808})", R"({"i": 1e19})",
                           R"({"i": -1e19})", R"({"i": -9223372036854777856.0})"}) {
    json doc = json::parse(text);
    Status s = schema.validate(doc, UnknownAttributes::kReject);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
    EXPECT_NE(s.message().find("i (range:int64)"), std::string::npos) << s.to_string();
  }
  auto l = layout({{"i", "integer"}, {"n", "number"}});
  for (const char* text : {R"({"i": 9223372036854775807, "n": 18446744073709551615})",
                           R"({"i": -9223372036854775808, "n": -9223372036854775808})", R"({"i": 1e18, "n": 1e300})"}) {
    json doc = json::parse(text);
    ASSERT_TRUE(schema.validate(doc, UnknownAttributes::kReject).ok()) << text;
    auto e = encode(doc, l, MetadataBudget::kEnforceLimits, nullptr, kW);
    ASSERT_TRUE(e.ok()) << text;
    auto back = roundtrip(*e, l);
    EXPECT_EQ(back["i"].get<double>(), doc["i"].get<double>()) << text;
    EXPECT_EQ(back["n"], doc["n"]) << text;
  }
  EXPECT_EQ(back_of_i(l, R"({"i": 9223372036854775807})"), "9223372036854775807");
  // The encoder refuses too, should an unvalidated document reach it.
  EXPECT_EQ(encode(json::parse(R"({"i": 18446744073709551615})"), l, MetadataBudget::kEnforceLimits, nullptr, kW)
                .status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Schema::compile({{"i", "integer|default:1e19"}}).status().code(), Code::kInvalidArgument);
}

// Issue 8, item 7: a secret is bound to its record: moved into another record (or attribute) it no
// longer opens. Values sealed before the binding (format 1) still read.
TEST_F(CodecTest, SecretsMovedToAnotherRecordDoNotOpenAndOldOnesStillRead) {
  auto l = layout({{"name", "string"}, {"password", "secret"}, {"pin", "secret"}});
  auto box = SecretBox::derive("pass", "salt", 1000).value();
  json doc = {{"id", "alice"}, {"name", "n"}, {"password", "alice-secret"}, {"pin", "1234"}};
  auto e = encode(doc, l, MetadataBudget::kUserManaged, box.get(), {"alice", kStamp}).value();
  EXPECT_EQ(decode(e.metadata, e.body, l, box.get(), "alice").value(), doc);
  EXPECT_TRUE(e.metadata.at("1").starts_with(kSecretV2Prefix));
  // The whole record's metadata under another id: every secret fails to open.
  auto moved = decode(e.metadata, e.body, l, box.get(), "mallory");
  EXPECT_EQ(moved.status().code(), Code::kUnauthorized) << moved.status().to_string();
  // One secret swapped into another attribute of the same record fails too.
  Metadata swapped = e.metadata;
  swapped.insert_or_assign("2", e.metadata.at("1"));
  EXPECT_EQ(decode(swapped, e.body, l, box.get(), "alice").status().code(), Code::kUnauthorized);
  // A format-1 value (no prefix, bound to "<resource>/<attribute>" only) still reads.
  Metadata legacy = e.metadata;
  legacy.insert_or_assign("1", box->seal("old-secret", "things/password").value());
  legacy.insert_or_assign("2", box->seal("0000", "things/pin").value());
  auto old = decode(legacy, e.body, l, box.get(), "alice");
  ASSERT_TRUE(old.ok()) << old.status().to_string();
  EXPECT_EQ((*old)["password"], "old-secret");
  EXPECT_EQ((*old)["pin"], "0000");
}

TEST_F(CodecTest, BehaviorsWhenTooLarge) {
  auto l = layout({{"a", "string"}, {"b", "string"}, {"c", "string"}});
  json doc = {{"id", "id1"}, {"a", std::string(1000, 'a')}, {"b", std::string(1500, 'b')}, {"c", "small"}};
  auto um = encode(doc, l, MetadataBudget::kUserManaged, nullptr, kW);
  ASSERT_TRUE(um.ok());
  EXPECT_TRUE(um->moved_to_body);
  EXPECT_EQ(um->metadata.size(), 1u);  // only the version
  EXPECT_EQ(roundtrip(*um, l), doc);

  auto bo = encode(doc, l, MetadataBudget::kBodyOverflow, nullptr, kW);
  ASSERT_TRUE(bo.ok());
  EXPECT_TRUE(bo->metadata.count("0"));
  EXPECT_FALSE(bo->metadata.count("1"));
  EXPECT_TRUE(bo->metadata.count("2"));  // later small fields still fill the metadata
  EXPECT_LE(metadata_size(bo->metadata), kMaxMetadataBytes);
  EXPECT_EQ(roundtrip(*bo, l), doc);

  auto only = encode(json{{"a", "x"}}, l, MetadataBudget::kBodyOnly, nullptr, kW);
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->metadata.size(), 1u);
  EXPECT_EQ(roundtrip(*only, l), (json{{"id", "id1"}, {"a", "x"}}));

  auto tr = encode(doc, l, MetadataBudget::kTruncateData, nullptr, kW);
  ASSERT_TRUE(tr.ok());
  EXPECT_EQ(tr->body.front(), '~');  // no fields in the body
  EXPECT_EQ(metadata_size(tr->metadata), kMaxMetadataBytes);
  json back = roundtrip(*tr, l);
  EXPECT_EQ(back["a"], doc["a"]);
  EXPECT_EQ(back["b"].get<std::string>(), std::string(2048 - 3 - 1001 - 1, 'b'));
  EXPECT_FALSE(back.contains("c"));  // dropped after the cut
}

TEST_F(CodecTest, TruncationKeepsWholeCodePoints) {
  auto l = layout({{"s", "string"}});
  std::string v;
  for (int i = 0; i < 400; ++i) v += "€";  // 3 bytes, 9 escaped
  auto tr = encode(json{{"s", v}}, l, MetadataBudget::kTruncateData, nullptr, kW);
  ASSERT_TRUE(tr.ok());
  EXPECT_LE(metadata_size(tr->metadata), kMaxMetadataBytes);
  std::string back = roundtrip(*tr, l)["s"];
  EXPECT_EQ(back.size() % 3, 0u);
  EXPECT_EQ(back.size(), (2048u - 3 - 1 - 1) / 9 * 3);  // 227 whole euro signs
  EXPECT_EQ(v.compare(0, back.size(), back), 0);
}

TEST_F(CodecTest, SecretsAreEncryptedAndNeedTheKey) {
  auto l = layout({{"name", "string"}, {"password", "secret"}});
  auto box = SecretBox::derive("pass", "salt", 1000).value();
  json doc = {{"id", "id1"}, {"name", "n"}, {"password", "hunter2-plaintext"}};
  EXPECT_EQ(encode(doc, l, MetadataBudget::kUserManaged, nullptr, kW).status().code(), Code::kInvalidArgument);
  auto e = encode(doc, l, MetadataBudget::kUserManaged, box.get(), kW);
  ASSERT_TRUE(e.ok());
  for (const auto& [k, v] : e->metadata) EXPECT_EQ(v.find("hunter2"), std::string::npos);
  EXPECT_EQ(roundtrip(*e, l, box.get()), doc);
  auto other = SecretBox::derive("nope", "salt", 1000).value();
  EXPECT_EQ(decode(e->metadata, e->body, l, other.get(), "id1").status().code(), Code::kUnauthorized);
  EXPECT_EQ(decode(e->metadata, e->body, l, nullptr, "id1").status().code(), Code::kInvalidArgument);
}

TEST_F(CodecTest, EveryWriteChangesTheBodyAndCarriesItsStamp) {
  // S3 ETags hash the body only: the stamp of each write makes If-Match see every write.
  auto l = layout({{"s", "string"}});
  const WriteStamp first = WriteStamp::next(nullptr);
  const WriteStamp second = WriteStamp::next(&first);
  EXPECT_EQ(first.seq, 1u);
  EXPECT_EQ(second.seq, 2u);
  EXPECT_NE(first.token, second.token);
  auto a = encode(json{{"s", "same"}}, l, MetadataBudget::kUserManaged, nullptr, {"id1", first}).value();
  auto b = encode(json{{"s", "same"}}, l, MetadataBudget::kUserManaged, nullptr, {"id1", second}).value();
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_NE(a.body, b.body);
  EXPECT_EQ(stamp_of_body(a.body), first);
  EXPECT_EQ(stamp_of_body(b.body), second);
  auto c = encode(json{{"s", "same"}}, l, MetadataBudget::kBodyOnly, nullptr, {"id1", first}).value();
  auto d = encode(json{{"s", "same"}}, l, MetadataBudget::kBodyOnly, nullptr, {"id1", second}).value();
  EXPECT_NE(c.body, d.body);
  EXPECT_EQ(roundtrip(c, l), roundtrip(d, l));
  WriteStamp decoded;
  ASSERT_TRUE(decode(d.metadata, d.body, l, nullptr, "id1", &decoded).ok());
  EXPECT_EQ(decoded, second);
  // A stamp remembers the tokens of the states before it, newest first, kHistory at most.
  EXPECT_TRUE(first.history.empty());
  EXPECT_EQ(second.history, first.token.substr(0, kHistoryChars));
  WriteStamp s = second;
  std::vector<std::string> tokens = {first.token, second.token};
  for (int i = 0; i < 20; ++i) {
    s = WriteStamp::next(&s);
    tokens.push_back(s.token);
  }
  EXPECT_EQ(WriteStamp::parse(s.text()), s);
  EXPECT_EQ(s.seq, 22u);
  for (std::uint64_t back = 1; back <= 21; ++back) {
    const auto had = s.had_token(back, tokens[tokens.size() - 1 - back]);
    if (back <= kHistory) {
      ASSERT_TRUE(had.has_value()) << back;
      EXPECT_TRUE(*had) << back;
      EXPECT_FALSE(*s.had_token(back, "nottheone00000")) << back;
    } else {
      EXPECT_FALSE(had.has_value()) << back;
    }
  }
  // Bodies written before sequence numbers (a bare 14-character token) read with seq 0.
  EXPECT_EQ(stamp_of_body("~abcdefghijklmn"), (WriteStamp{"abcdefghijklmn", 0, ""}));
  EXPECT_EQ(stamp_of_body(R"({"w-":"abcdefghijklmn","0":"x"})"), (WriteStamp{"abcdefghijklmn", 0, ""}));
  EXPECT_TRUE(stamp_of_body("").token.empty());
  EXPECT_TRUE(stamp_of_body("~x.notbase36!").token.empty());
}

TEST_F(CodecTest, CorruptValuesAreInternalErrors) {
  auto l = layout({{"i", "integer"}, {"j", "json"}});
  Metadata m{{"v-", "1"}, {"0", "NOT"}};
  EXPECT_EQ(decode(m, "", l, nullptr, "x").status().code(), Code::kInternal);
  Metadata m2{{"v-", "1"}, {"1", "{"}};
  EXPECT_EQ(decode(m2, "", l, nullptr, "x").status().code(), Code::kInternal);
  EXPECT_EQ(decode({{"v-", "1"}}, "{\"1\": 5}", l, nullptr, "x").status().code(), Code::kInternal);
  EXPECT_EQ(stored_version({{"v-", "z"}}), 35);
  EXPECT_EQ(stored_version({}), 0);
}

}  // namespace
}  // namespace s3db::db
