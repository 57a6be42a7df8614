// Internal: the S3 XML documents the client reads and writes (pugixml). Pure, thread-safe.
//
// Parsers return std::nullopt for a body that is not the expected document; callers turn that
// into a Status (the error mapping lives in errors.h).
#pragma once

#include <s3db/storage_client.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::s3 {

struct S3ErrorBody {
  std::string code;
  std::string message;
  std::string request_id;
};
// <Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>
std::optional<S3ErrorBody> parse_error(std::string_view body);

// ListBucketResult (ListObjectsV2). Keys, prefixes, start-after and the delimiter are decoded
// when the document says <EncodingType>url</EncodingType> (servers that ignore encoding-type
// send raw keys, which are left alone). Keys are returned as stored (prefix not stripped).
std::optional<ListPage> parse_list_v2(std::string_view body);

struct DeleteError {
  std::string key;
  std::string code;
  std::string message;
};
struct DeleteResultBody {
  std::vector<std::string> deleted;  // empty in quiet mode
  std::vector<DeleteError> errors;
};
std::optional<DeleteResultBody> parse_delete_result(std::string_view body);
// <Delete><Quiet>true</Quiet><Object><Key>…</Key></Object>…</Delete>
std::string build_delete_body(const std::vector<std::string>& keys, bool quiet);

// <CopyObjectResult><ETag>"…"</ETag>…; the ETag is returned unquoted (storage::unquote_etag).
std::optional<std::string> parse_copy_result(std::string_view body);

// "2013-05-24T00:00:00.000Z" → Unix milliseconds; nullopt when malformed.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace s3db::s3
