// Internal: user metadata ↔ x-amz-meta-* header values.
//
// HTTP header values are not a safe carrier for arbitrary UTF-8 (S3 itself answers non-ASCII
// values in RFC 2047 form), so values that are not plain printable ASCII are sent as RFC 2047
// "=?UTF-8?B?<base64>?=" words, and such words are decoded on the way back (from any writer,
// AWS included). Plain ASCII values travel unchanged, so other tools (awscli) read them as is.
// Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace s3db::s3 {

std::string encode_metadata_value(std::string_view value);
std::string decode_metadata_value(std::string_view value);  // undecodable input returned as is

}  // namespace s3db::s3
