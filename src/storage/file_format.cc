#include "storage/file_format.h"

#include "core/encoding.h"
#include "storage/s3/digest.h"

#include <charconv>

namespace s3db::storage::file_format {
namespace {

// Bytes a file name keeps as they are: the rest (and a leading '.') is percent-encoded.
constexpr encoding::ByteSet kNameBytes = encoding::kAlnum.with("._-");

void put_netstring(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
  out += ',';
}

bool take_netstring(std::string_view& in, std::string_view& out) {
  const auto colon = in.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 20) return false;
  std::size_t len = 0;
  auto [p, ec] = std::from_chars(in.data(), in.data() + colon, len);
  if (ec != std::errc() || p != in.data() + colon) return false;
  if (in.size() < colon + 1 + len + 1 || in[colon + 1 + len] != ',') return false;
  out = in.substr(colon + 1, len);
  in.remove_prefix(colon + 1 + len + 1);
  return true;
}

template <class Int>
bool parse_int(std::string_view s, Int& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string file_name_for(std::string_view key) {
  std::string name;
  name.reserve(key.size() + 8);
  std::string_view rest = key;
  if (rest.starts_with('.')) {  // names starting with '.' are temp files
    encoding::append_percent_escape(name, '.');
    rest.remove_prefix(1);
  }
  encoding::append_percent_encoded(name, rest, kNameBytes);
  if (name.size() <= kMaxEncodedName) return name;
  std::string hashed(1, '~');  // built in two steps: GCC 12 warns on "~" + string (-Wrestrict)
  hashed += s3::sha256_hex(key);
  return hashed;
}

std::optional<std::string> key_from_file_name(std::string_view name) {
  if (name.empty() || name[0] == '.' || name[0] == '~') return std::nullopt;
  auto key = encoding::percent_decode(name);
  // Only the name this store would write for the key is the key's: any other spelling ("%41",
  // "%2f", a raw '~') is a foreign file, whose key get() would look for under another name.
  if (!key || file_name_for(*key) != name) return std::nullopt;
  return key;
}

std::string encode_preamble(const ObjectMeta& meta) {
  std::string header;
  put_netstring(header, meta.key);
  put_netstring(header, meta.etag);
  put_netstring(header, meta.content_type);
  put_netstring(header, std::to_string(meta.last_modified_ms));
  put_netstring(header, std::to_string(meta.metadata.size()));
  for (const auto& [k, v] : meta.metadata) {
    put_netstring(header, k);
    put_netstring(header, v);
  }
  std::string out(kMagic);
  out += std::to_string(header.size());
  out += '\n';
  out += header;
  return out;
}

std::optional<std::size_t> preamble_size(std::string_view data) {
  if (data.size() < kMagic.size()) {
    // Too short to tell: ask for the magic plus a length line.
    return kMagic.substr(0, data.size()) == data ? std::optional<std::size_t>(kMagic.size() + 21)
                                                 : std::nullopt;
  }
  if (data.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  std::string_view rest = data.substr(kMagic.size());
  const auto nl = rest.find('\n');
  if (nl == std::string_view::npos) {
    return rest.size() > 20 ? std::nullopt : std::optional<std::size_t>(kMagic.size() + 21);
  }
  std::size_t header_len = 0;
  if (!parse_int(rest.substr(0, nl), header_len)) return std::nullopt;
  return kMagic.size() + nl + 1 + header_len;
}

Result<ObjectMeta> decode_preamble(std::string_view preamble) {
  const auto corrupt = [](std::string_view what) {
    return Status::Internal("file store", "corrupt object file (" + std::string(what) + ")");
  };
  auto total = preamble_size(preamble);
  if (!total || *total != preamble.size()) return corrupt("bad preamble");
  std::string_view in = preamble.substr(preamble.find('\n', kMagic.size()) + 1);
  std::string_view key, etag, ctype, mtime, count;
  if (!take_netstring(in, key) || !take_netstring(in, etag) || !take_netstring(in, ctype) ||
      !take_netstring(in, mtime) || !take_netstring(in, count)) {
    return corrupt("truncated header");
  }
  ObjectMeta meta;
  meta.key = std::string(key);
  meta.etag = std::string(etag);
  meta.content_type = std::string(ctype);
  std::size_t n = 0;
  if (!parse_int(mtime, meta.last_modified_ms) || !parse_int(count, n)) return corrupt("bad numbers");
  for (std::size_t i = 0; i < n; ++i) {
    std::string_view k, v;
    if (!take_netstring(in, k) || !take_netstring(in, v)) return corrupt("truncated metadata");
    meta.metadata.emplace(std::string(k), std::string(v));
  }
  if (!in.empty()) return corrupt("trailing header bytes");
  return meta;
}

}  // namespace s3db::storage::file_format
