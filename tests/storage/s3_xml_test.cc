// S3 XML documents: errors, ListObjectsV2 (url encoding), DeleteObjects, CopyObject, metadata
// values in headers.
#include "storage/s3/xml.h"

#include "storage/s3/metadata_codec.h"

#include <gtest/gtest.h>

namespace s3db::s3 {
namespace {

TEST(S3Xml, ParsesErrorBody) {
  auto e = parse_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>a</Key>"
      "<RequestId>tx00000abc</RequestId></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The specified key does not exist.");
  EXPECT_EQ(e->request_id, "tx00000abc");
  EXPECT_FALSE(parse_error("").has_value());
  EXPECT_FALSE(parse_error("<html>502 Bad Gateway</html>").has_value());
  EXPECT_FALSE(parse_error("<CopyObjectResult/>").has_value());
}

TEST(S3Xml, ParsesListV2WithUrlEncodedKeys) {
  auto page = parse_list_v2(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><Prefix>p%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
      "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "<Contents><Key>p/a+b%2Bc%3D%C3%A9</Key><LastModified>2013-05-24T00:00:01.250Z</LastModified>"
      "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>13</Size></Contents>"
      "<Contents><Key>p/z</Key><LastModified>2013-05-24T00:00:00Z</LastModified>"
      "<ETag>\"e\"</ETag><Size>0</Size></Contents>"
      "<CommonPrefixes><Prefix>p/dir%20x/</Prefix></CommonPrefixes>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a b+c=é");
  EXPECT_EQ(page->objects[0].size, 13u);
  EXPECT_EQ(page->objects[0].etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(page->objects[0].last_modified_ms, 1369353601250);
  EXPECT_EQ(page->objects[1].etag, "e");
  ASSERT_EQ(page->common_prefixes.size(), 1u);
  EXPECT_EQ(page->common_prefixes[0], "p/dir x/");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, RawKeysAreLeftAloneWithoutEncodingType) {
  auto page = parse_list_v2(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a+b%20c</Key><Size>1</Size></Contents>"
      "<Contents><Key> </Key><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a+b%20c");
  EXPECT_EQ(page->objects[1].key, " ");  // whitespace-only keys survive
  EXPECT_FALSE(page->truncated);
  EXPECT_TRUE(page->next_continuation_token.empty());
  EXPECT_FALSE(parse_list_v2("<Error><Code>x</Code></Error>").has_value());
}

TEST(S3Xml, DeleteBodyAndResult) {
  std::string body = build_delete_body({"a&b", "<c>", "é"}, true);
  EXPECT_NE(body.find("<Quiet>true</Quiet>"), std::string::npos) << body;
  EXPECT_NE(body.find("<Key>a&amp;b</Key>"), std::string::npos) << body;
  EXPECT_NE(body.find("<Key>&lt;c&gt;</Key>"), std::string::npos) << body;
  EXPECT_NE(body.find("<Key>é</Key>"), std::string::npos) << body;
  EXPECT_EQ(body.find("<Key>", body.find("<Key>é</Key>") + 1), std::string::npos);

  auto r = parse_delete_result(
      "<DeleteResult><Deleted><Key>x</Key></Deleted>"
      "<Error><Key>y</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>");
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->deleted.size(), 1u);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].key, "y");
  EXPECT_EQ(r->errors[0].code, "AccessDenied");
}

TEST(S3Xml, CopyResultAndEtags) {
  auto etag = parse_copy_result(
      "<CopyObjectResult><LastModified>2013-05-24T00:00:00.000Z</LastModified>"
      "<ETag>\"abc\"</ETag></CopyObjectResult>");
  ASSERT_TRUE(etag.has_value());
  EXPECT_EQ(*etag, "abc");
  EXPECT_FALSE(parse_copy_result("<Error><Code>InternalError</Code></Error>").has_value());
  // Escaped twice by the server: unquoted all the same (storage::unquote_etag).
  EXPECT_EQ(parse_copy_result("<CopyObjectResult><ETag>&amp;quot;abc&amp;quot;</ETag></CopyObjectResult>"), "abc");
}

TEST(S3Xml, Iso8601) {
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ms("2013-05-24T00:00:00.5Z"), 1369353600500);
  EXPECT_EQ(parse_iso8601_ms("2013-05-24T00:00:00.123456Z"), 1369353600123);
  EXPECT_FALSE(parse_iso8601_ms("2013-05-24").has_value());
  EXPECT_FALSE(parse_iso8601_ms("2013-05-24T00:00:00").has_value());
}

TEST(MetadataCodec, AsciiTravelsAsIsOthersAsRfc2047) {
  EXPECT_EQ(encode_metadata_value("plain value-1"), "plain value-1");
  EXPECT_EQ(encode_metadata_value(""), "");
  for (std::string v : {"é ünïcødé 🎉", " lead", "trail ", "two  spaces", "tab\there", "=?x?=",
                        "line\nbreak"}) {
    std::string enc = encode_metadata_value(v);
    EXPECT_EQ(enc.rfind("=?UTF-8?B?", 0), 0u) << v;
    for (char c : enc) EXPECT_TRUE(c > 0x20 && c < 0x7F) << v;
    EXPECT_EQ(decode_metadata_value(enc), v);
  }
}

TEST(MetadataCodec, DecodesWordsFromOtherWriters) {
  EXPECT_EQ(decode_metadata_value("=?UTF-8?B?w6k=?="), "é");
  EXPECT_EQ(decode_metadata_value("=?utf-8?Q?caf=C3=A9_au_lait?="), "café au lait");
  EXPECT_EQ(decode_metadata_value("=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?="), "éé");
  EXPECT_EQ(decode_metadata_value("=?ISO-8859-1?Q?x?="), "=?ISO-8859-1?Q?x?=");  // left alone
  EXPECT_EQ(decode_metadata_value("=?broken"), "=?broken");
}

}  // namespace
}  // namespace s3db::s3
