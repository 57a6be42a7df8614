// Internal: the on-disk format of FileClient.
//
// Layout: <root>/objects/<file name>. One file per object holds a small header and then the body,
// so that the pair can never be observed torn: a writer fills a temp file ".tmp-<pid>-<n>" in the
// same directory and renames it over the object, and a reader's open descriptor always sees one
// complete version.
//
// File names: the key percent-encoded (everything but [A-Za-z0-9._-], and a leading '.', so names
// never start with '.' — those are temp files; upper-case hex); keys whose encoding exceeds 240
// bytes become "~" + hex SHA-256 of the key (the header holds the key itself). Any other name in
// the directory (another spelling of a key, "%41" for "A") is foreign and never listed.
//
// File: "s3db-object 1\n" "<header bytes>\n" header body, where the header is a list of netstrings
// "<len>:<bytes>," — key, etag, content type, mtime (ms), metadata count, then key/value pairs.
#pragma once

#include "s3db/storage_client.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace s3db::storage::file_format {

inline constexpr std::string_view kMagic = "s3db-object 1\n";
inline constexpr std::string_view kTempPrefix = ".tmp-";
inline constexpr std::size_t kMaxEncodedName = 240;

std::string file_name_for(std::string_view key);
// The key a file name encodes; nullopt for hashed names (read the header) and foreign names
// (any name file_name_for() would not write).
std::optional<std::string> key_from_file_name(std::string_view name);
inline bool is_hashed_name(std::string_view name) { return !name.empty() && name[0] == '~'; }

// Magic + header length line + header (everything before the body).
std::string encode_preamble(const ObjectMeta& meta);

// Parses the start of a file. Returns how many bytes the whole preamble spans (so the caller can
// read more when `data` is too short: `needed` > data.size()), or nullopt when not our format.
std::optional<std::size_t> preamble_size(std::string_view data);

// Parses a complete preamble (exactly preamble_size() bytes). Size is not set (the caller knows
// the file size). Corrupt → Internal.
[[nodiscard]] Result<ObjectMeta> decode_preamble(std::string_view preamble);

}  // namespace s3db::storage::file_format
