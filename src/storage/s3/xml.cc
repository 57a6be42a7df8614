#include "storage/s3/xml.h"

#include "core/encoding.h"
#include "storage/object_util.h"

#include <pugixml.hpp>

#include <charconv>
#include <ctime>

namespace s3db::s3 {

namespace {

bool load(pugi::xml_document& doc, std::string_view body) {
  if (body.empty()) return false;
  // Keep whitespace-only keys (" ") and CR bytes inside keys exactly as sent.
  const unsigned flags = (pugi::parse_default | pugi::parse_ws_pcdata_single) & ~pugi::parse_eol;
  return static_cast<bool>(doc.load_buffer(body.data(), body.size(), flags, pugi::encoding_utf8));
}

std::string text_of(const pugi::xml_node& node, const char* child) {
  return node.child(child).text().as_string();
}

int parse_int(std::string_view s, std::size_t pos, std::size_t len, bool& ok) {
  int v = 0;
  if (pos + len > s.size()) { ok = false; return 0; }
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, v);
  if (ec != std::errc() || p != s.data() + pos + len) ok = false;
  return v;
}

}  // namespace

std::optional<S3ErrorBody> parse_error(std::string_view body) {
  pugi::xml_document doc;
  if (!load(doc, body)) return std::nullopt;
  pugi::xml_node err = doc.child("Error");
  if (!err) return std::nullopt;
  return S3ErrorBody{text_of(err, "Code"), text_of(err, "Message"), text_of(err, "RequestId")};
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':') {
    return std::nullopt;
  }
  bool ok = true;
  std::tm tm{};
  tm.tm_year = parse_int(t, 0, 4, ok) - 1900;
  tm.tm_mon = parse_int(t, 5, 2, ok) - 1;
  tm.tm_mday = parse_int(t, 8, 2, ok);
  tm.tm_hour = parse_int(t, 11, 2, ok);
  tm.tm_min = parse_int(t, 14, 2, ok);
  tm.tm_sec = parse_int(t, 17, 2, ok);
  int ms = 0;
  std::size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
    std::size_t digits = pos - start;
    if (digits == 0) return std::nullopt;
    ms = parse_int(t, start, digits < 3 ? digits : 3, ok);
    for (std::size_t d = digits; d < 3; ++d) ms *= 10;
  }
  if (!ok || pos != t.size() - 1 || t[pos] != 'Z') return std::nullopt;
  std::time_t secs = timegm(&tm);
  return static_cast<std::int64_t>(secs) * 1000 + ms;
}

std::optional<ListPage> parse_list_v2(std::string_view body) {
  pugi::xml_document doc;
  if (!load(doc, body)) return std::nullopt;
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return std::nullopt;
  const bool url = std::string_view(root.child("EncodingType").text().as_string()) == "url";
  auto decode = [url](std::string s) { return url ? encoding::percent_decode_lenient(s, /*plus_is_space=*/true) : s; };

  ListPage page;
  for (pugi::xml_node c = root.child("Contents"); c; c = c.next_sibling("Contents")) {
    ObjectMeta meta;
    meta.key = decode(text_of(c, "Key"));
    meta.size = c.child("Size").text().as_ullong();
    meta.etag = storage::unquote_etag(text_of(c, "ETag"));
    meta.last_modified_ms = parse_iso8601_ms(text_of(c, "LastModified")).value_or(0);
    page.objects.push_back(std::move(meta));
  }
  for (pugi::xml_node p = root.child("CommonPrefixes"); p; p = p.next_sibling("CommonPrefixes")) {
    page.common_prefixes.push_back(decode(text_of(p, "Prefix")));
  }
  page.truncated = std::string_view(root.child("IsTruncated").text().as_string()) == "true";
  if (page.truncated) page.next_continuation_token = text_of(root, "NextContinuationToken");
  return page;
}

std::optional<DeleteResultBody> parse_delete_result(std::string_view body) {
  pugi::xml_document doc;
  if (!load(doc, body)) return std::nullopt;
  pugi::xml_node root = doc.child("DeleteResult");
  if (!root) return std::nullopt;
  DeleteResultBody out;
  for (pugi::xml_node d = root.child("Deleted"); d; d = d.next_sibling("Deleted")) {
    out.deleted.push_back(text_of(d, "Key"));
  }
  for (pugi::xml_node e = root.child("Error"); e; e = e.next_sibling("Error")) {
    out.errors.push_back({text_of(e, "Key"), text_of(e, "Code"), text_of(e, "Message")});
  }
  return out;
}

std::string build_delete_body(const std::vector<std::string>& keys, bool quiet) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("Delete");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  if (quiet) root.append_child("Quiet").text().set("true");
  for (const std::string& key : keys) {
    root.append_child("Object").append_child("Key").text().set(key.c_str());
  }
  struct Writer : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override {
      out.append(static_cast<const char*>(data), size);
    }
  } writer;
  doc.save(writer, "", pugi::format_raw, pugi::encoding_utf8);
  return std::move(writer.out);
}

std::optional<std::string> parse_copy_result(std::string_view body) {
  pugi::xml_document doc;
  if (!load(doc, body)) return std::nullopt;
  pugi::xml_node root = doc.child("CopyObjectResult");
  if (!root) return std::nullopt;
  return std::string(storage::unquote_etag(text_of(root, "ETag")));
}

}  // namespace s3db::s3
