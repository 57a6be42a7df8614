// storage/object_util.h: the ETag unquoting and the key check every client shares.
#include "storage/object_util.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace s3db::storage {
namespace {

TEST(UnquoteEtag, StripsQuotesWeakPrefixAndEscapedQuotesOnlyWhenBalanced) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"\"abc\"", "abc"}, {"W/\"abc\"", "abc"}, {"&quot;abc&quot;", "abc"}, {"abc", "abc"}, {"\"\"", ""},
      {"", ""}, {"\"", "\""}, {"\"abc", "\"abc"}, {"abc\"", "abc\""},
      // An opening "&quot;" without its closing one is not a quoted ETag (the S3 parser's copy
      // cut six bytes off the end regardless: "&quot;abcdefgh" became "ab").
      {"&quot;abcdefgh", "&quot;abcdefgh"}, {"abcdefgh&quot;", "abcdefgh&quot;"},
  };
  for (const auto& [etag, want] : cases) EXPECT_EQ(unquote_etag(etag), want) << etag;
}

TEST(CheckKey, AcceptsOneTo1024BytesOfUtf8) {
  EXPECT_TRUE(check_key("put", "a").ok());
  EXPECT_TRUE(check_key("put", std::string(1024, 'a')).ok());
  EXPECT_TRUE(check_key("put", "ключ/🎉").ok());
}

TEST(CheckKey, RefusesEmptyLongAndInvalidKeysNamingTheOperation) {
  Status empty = check_key("get", "");
  EXPECT_EQ(empty.code(), Code::kInvalidArgument);
  EXPECT_EQ(empty.message(), "get: empty key");
  Status long_key = check_key("put", std::string(1025, 'a'));
  EXPECT_EQ(long_key.code(), Code::kInvalidArgument);
  EXPECT_NE(long_key.message().find("key is 1025 bytes; the limit is 1024 bytes of UTF-8"), std::string::npos)
      << long_key.message();
  EXPECT_LT(long_key.message().size(), 200u);  // the key is cut to 64 bytes in the message
  Status bad = check_key("head", "a\xC0\xAF");
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.message(), "head: key is not valid UTF-8");
  EXPECT_EQ(check_key("head", "\xED\xA0\x80").code(), Code::kInvalidArgument);  // a surrogate
}

TEST(CheckKey, CountsTheClientsPrefix) {
  EXPECT_TRUE(check_key("s3 put", std::string(1000, 'a'), 24).ok());
  Status s = check_key("s3 put", std::string(1000, 'a'), 25);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("key is 1000 bytes (1025 with the connection's prefix)"), std::string::npos)
      << s.message();
  EXPECT_EQ(check_key("s3 put", "", 10).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace s3db::storage
