#include "db/codec.h"

#include "db/crypto.h"
#include "db/ids.h"
#include "db/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

namespace s3db::db {

using nlohmann::json;

const Slot* Layout::by_key(std::string_view key) const noexcept {
  for (const Slot& s : slots) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

const Slot* Layout::by_name(std::string_view name) const noexcept {
  for (const Slot& s : slots) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<Layout> make_layout(std::string resource, int version, const Schema& schema, const json& keys) {
  Layout l;
  l.version = version;
  l.version_text = to_base36(version);
  l.resource = std::move(resource);
  for (const FieldRule& f : schema.fields()) {
    auto it = keys.find(f.name);
    if (it == keys.end() || !it->is_string()) {
      return Status::InvalidArgument("layout of " + l.resource, "no short key for attribute " + f.name);
    }
    l.slots.push_back({f.name, it->get<std::string>(), f.type});
  }
  l.slots.push_back({"createdAt", std::string(kCreatedKey), FieldType::kString});
  l.slots.push_back({"updatedAt", std::string(kUpdatedKey), FieldType::kString});
  return l;
}

namespace {

// Associated data of a sealed secret: the place it belongs to. Format 2 binds the record id too
// (NUL-separated: resource names and ids cannot hold a NUL, so the parts cannot be shifted);
// format 1, written before, bound only "<resource>/<attribute>".
std::string secret_aad(const Layout& l, const Slot& s, std::string_view id, bool v2) {
  if (!v2) return l.resource + "/" + s.name;
  std::string aad;
  aad.reserve(16 + l.resource.size() + s.name.size() + id.size());
  aad += "s3db secret 2";
  aad += '\0';
  aad += l.resource;
  aad += '\0';
  aad += id;
  aad += '\0';
  aad += s.name;
  return aad;
}

// An integer field as int64: validation refuses what does not fit, this refuses it again (no
// silent wrap of 2^64-1 to -1, no undefined cast of 1e19).
std::optional<std::int64_t> as_int64(const Scalar& v) {
  switch (v.kind) {
    case Scalar::Kind::kUnsigned:
      if (v.u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<std::int64_t>(v.u);
    case Scalar::Kind::kSigned: return v.i;
    case Scalar::Kind::kFloat:
      if (!(v.d >= -9223372036854775808.0 && v.d < 9223372036854775808.0)) return std::nullopt;
      return static_cast<std::int64_t>(v.d);
    default: return std::nullopt;
  }
}

void append_chars(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

Status encode_scalar(const Slot& s, const Scalar& v, const Layout& l, const SecretBox* box, std::string_view id,
                     Field& f) {
  switch (s.type) {
    case FieldType::kString: case FieldType::kEmail: case FieldType::kUrl: case FieldType::kDate:
      if (v.kind == Scalar::Kind::kString) {
        f.raw = v.str;
        return Status::OK();
      }
      dump_scalar(v, f.owned);  // kept unknown shapes (should not happen after validation)
      break;
    case FieldType::kInteger: {
      const auto n = as_int64(v);
      if (!n) return Status::InvalidArgument("encode " + l.resource, s.name + " is outside the 64-bit integer range");
      f.owned = to_base36(*n);
      break;
    }
    case FieldType::kNumber:
      if (v.kind == Scalar::Kind::kUnsigned) f.owned = std::to_string(v.u);
      else if (v.kind == Scalar::Kind::kSigned) f.owned = std::to_string(v.i);
      else append_chars(f.owned, v.d);
      break;
    case FieldType::kBoolean:
      f.owned = v.b ? "1" : "0";
      break;
    case FieldType::kSecret: {
      if (box == nullptr) {
        return Status::InvalidArgument("encode " + l.resource,
                                       "attribute " + s.name + " is secret: open the database with a passphrase");
      }
      auto sealed = box->seal(v.str, secret_aad(l, s, id, true));
      if (!sealed.ok()) return sealed.status();
      f.owned = kSecretV2Prefix;
      f.owned += *sealed;
      break;
    }
    default:
      dump_scalar(v, f.owned);
  }
  f.raw = f.owned;
  return Status::OK();
}

Status encode_value(const Slot& s, const json& v, const Layout& l, const SecretBox* box, std::string_view id,
                    Field& f) {
  if (v.is_string() || v.is_number() || v.is_boolean()) return encode_scalar(s, scalar_of(v), l, box, id, f);
  dump_json(v, f.owned);
  f.raw = f.owned;
  return Status::OK();
}

namespace {

std::size_t cost(const Field& f) { return f.key.size() + escaped_size(f.raw, true); }

void put_meta(Metadata& m, const Field& f) {
  std::string value;
  value.reserve(f.raw.size() + 1);
  escape_value(f.raw, true, value);
  m.emplace(std::string(f.key), std::move(value));
}

// put_meta for a field that is not needed afterwards: a value encoded into `owned` (JSON, numbers)
// that needs no escaping moves into the metadata instead of being copied.
void take_meta(Metadata& m, Field& f) {
  if (!f.owned.empty() && f.raw.data() == f.owned.data() && escaped_size(f.raw, true) == f.raw.size()) {
    m.emplace(std::string(f.key), std::move(f.owned));
    return;
  }
  put_meta(m, f);
}

std::string body_of(const std::vector<const Field*>& fields, const WriteStamp& stamp) {
  std::string out = "{\"";
  out += kStampKey;
  out += "\":\"";
  stamp.append_text(out);
  out += '"';
  std::string v;
  for (const Field* f : fields) {
    out += ',';
    v.clear();
    escape_value(f->raw, false, v);
    out += json(std::string(f->key)).dump();
    out += ':';
    out += json(v).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out += '}';
  return out;
}

// Longest prefix of `s` (on a code point boundary) whose escaped form takes at most `room` bytes.
// Escaped size is not monotonic in the length (a trailing space costs 3 bytes), so candidates are
// tried from the longest down, starting at `room` bytes since escaping never shrinks a value.
std::string_view fit_prefix(std::string_view s, std::size_t room) {
  std::size_t n = std::min(s.size(), room);
  for (;; --n) {
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    if (n == 0 || escaped_size(s.substr(0, n), true) <= room) return s.substr(0, n);
  }
}

// A body with no field: the stamp alone.
std::string bare_body(const WriteStamp& stamp) {
  std::string out;
  out.reserve(stamp.text_size() + 1);
  out += '~';
  stamp.append_text(out);
  return out;
}

}  // namespace

Result<Encoded> encode(const json& doc, const Layout& layout, MetadataBudget behavior, const SecretBox* box,
                       RecordBinding write) {
  // Reused per thread: encoding runs once per write, and its scratch list need not be allocated
  // each time. (Fields view strings of `doc` or own theirs; all are cleared before returning.)
  thread_local std::vector<Field> scratch;
  std::vector<Field>& fields = scratch;  // empty: every call clears it on its way out
  fields.reserve(layout.slots.size() + 1);
  struct Clear {
    std::vector<Field>& v;
    ~Clear() { v.clear(); }
  } clear_on_return{fields};
  std::size_t matched = 0;
  for (const Slot& s : layout.slots) {
    auto it = doc.find(s.name);
    if (it == doc.end()) continue;
    ++matched;
    if (it->is_null()) continue;
    Field& f = fields.emplace_back();
    f.key = s.key;
    f.type = s.type;
    S3DB_RETURN_IF_ERROR(encode_value(s, *it, layout, box, write.id, f));
  }
  // Attributes outside the schema (kept under UnknownAttributes::kKeep) travel as one JSON value.
  if (doc.size() > matched + (doc.contains("id") ? 1 : 0)) {
    json extra = json::object();
    for (const auto& [k, v] : doc.items()) {
      if (k != "id" && layout.by_name(k) == nullptr) extra[k] = v;
    }
    Field& f = fields.emplace_back();
    f.key = kExtraKey;
    f.type = FieldType::kJson;
    dump_json(extra, f.owned);
    f.raw = f.owned;
  }
  return place(fields, layout, behavior, write.stamp);
}

Result<Encoded> place(std::vector<Field>& fields, const Layout& layout, MetadataBudget behavior,
                      const WriteStamp& stamp) {
  Encoded out;
  const std::size_t version_cost = kVersionKey.size() + layout.version_text.size();
  std::size_t total = version_cost;
  for (const Field& f : fields) total += cost(f);
  out.metadata.reserve(fields.size() + 1);
  out.metadata.emplace(std::string(kVersionKey), layout.version_text);

  if (total <= kMaxMetadataBytes && behavior != MetadataBudget::kBodyOnly) {
    for (Field& f : fields) take_meta(out.metadata, f);
    out.body = bare_body(stamp);
    return out;
  }
  std::vector<const Field*> in_body;
  switch (behavior) {
    case MetadataBudget::kEnforceLimits:
      return Status::InvalidArgument(
          "record too large for " + layout.resource,
          "needs " + std::to_string(total) + " bytes of metadata, the limit is 2048 (behavior enforce-limits)");
    case MetadataBudget::kUserManaged:
      out.moved_to_body = true;
      [[fallthrough]];
    case MetadataBudget::kBodyOnly:
      for (const Field& f : fields) in_body.push_back(&f);
      break;
    case MetadataBudget::kBodyOverflow: {
      std::size_t room = kMaxMetadataBytes - version_cost;
      for (const Field& f : fields) {
        const std::size_t c = cost(f);
        if (c <= room) {
          put_meta(out.metadata, f);
          room -= c;
        } else {
          in_body.push_back(&f);
        }
      }
      break;
    }
    case MetadataBudget::kTruncateData: {
      std::size_t room = kMaxMetadataBytes - version_cost;
      out.truncated = true;
      for (const Field& f : fields) {
        const std::size_t c = cost(f);
        if (c <= room) {
          put_meta(out.metadata, f);
          room -= c;
          continue;
        }
        // The first field that does not fit: strings are cut on a code point boundary, the rest
        // of the record is dropped.
        if (f.type == FieldType::kString && room > f.key.size()) {
          Field cut = f;
          cut.raw = fit_prefix(f.raw, room - f.key.size());
          if (cost(cut) <= room) put_meta(out.metadata, cut);
        }
        break;
      }
      break;
    }
  }
  out.body = in_body.empty() ? bare_body(stamp) : body_of(in_body, stamp);
  return out;
}

int stored_version(const Metadata& metadata) noexcept {
  auto it = metadata.find(std::string(kVersionKey));
  if (it == metadata.end()) return 0;
  auto v = from_base36(it->second);
  if (!v || *v < 1 || *v > 1000000) return 0;
  return static_cast<int>(*v);
}

namespace {

Status corrupt(const Layout& l, std::string_view id, std::string_view key, std::string_view why) {
  return Status::Internal("decode " + l.resource + "/" + std::string(id),
                          "field " + std::string(key) + ": " + std::string(why));
}

Status decode_value(const Slot& s, std::string_view stored, const Layout& l, const SecretBox* box,
                    std::string_view id, json& doc) {
  auto raw = unescape_value(stored);
  if (!raw) return corrupt(l, id, s.key, "bad escape");
  std::string& v = *raw;
  switch (s.type) {
    case FieldType::kString: case FieldType::kEmail: case FieldType::kUrl: case FieldType::kDate:
      doc[s.name] = std::move(v);
      return Status::OK();
    case FieldType::kInteger: {
      auto n = from_base36(v);
      if (!n) return corrupt(l, id, s.key, "not a base-36 integer");
      doc[s.name] = *n;
      return Status::OK();
    }
    case FieldType::kNumber: {
      const char* b = v.data();
      const char* e = b + v.size();
      std::int64_t i = 0;
      auto ri = std::from_chars(b, e, i);
      if (ri.ec == std::errc() && ri.ptr == e) { doc[s.name] = i; return Status::OK(); }
      std::uint64_t u = 0;
      auto ru = std::from_chars(b, e, u);
      if (ru.ec == std::errc() && ru.ptr == e) { doc[s.name] = u; return Status::OK(); }
      double d = 0;
      auto rd = std::from_chars(b, e, d);
      if (rd.ec != std::errc() || rd.ptr != e) return corrupt(l, id, s.key, "not a number");
      doc[s.name] = d;
      return Status::OK();
    }
    case FieldType::kBoolean:
      if (v != "1" && v != "0") return corrupt(l, id, s.key, "not a boolean");
      doc[s.name] = v == "1";
      return Status::OK();
    case FieldType::kSecret: {
      if (box == nullptr) {
        return Status::InvalidArgument("decode " + l.resource + "/" + std::string(id),
                                       "attribute " + s.name + " is secret: open the database with a passphrase");
      }
      const bool v2 = std::string_view(v).starts_with(kSecretV2Prefix);
      auto plain = box->open(std::string_view(v).substr(v2 ? kSecretV2Prefix.size() : 0), secret_aad(l, s, id, v2));
      if (!plain.ok()) return plain.status().with_context("decode " + l.resource + "/" + std::string(id));
      doc[s.name] = std::move(plain).value();
      return Status::OK();
    }
    default: {
      json parsed = json::parse(v, nullptr, false);
      if (parsed.is_discarded()) return corrupt(l, id, s.key, "not JSON");
      doc[s.name] = std::move(parsed);
      return Status::OK();
    }
  }
}

Status decode_entry(std::string_view key, std::string_view value, const Layout& l,
                    const SecretBox* box, std::string_view id, json& doc) {
  if (key == kVersionKey || key == kStampKey) return Status::OK();
  if (key == kExtraKey) {
    auto raw = unescape_value(value);
    json extra = raw ? json::parse(*raw, nullptr, false) : json(json::value_t::discarded);
    if (!extra.is_object()) return corrupt(l, id, key, "extra attributes are not a JSON object");
    for (auto& [k, v] : extra.items()) doc[k] = std::move(v);
    return Status::OK();
  }
  const Slot* s = l.by_key(key);
  if (s == nullptr) return Status::OK();  // metadata not written by s3db (or a dropped attribute)
  return decode_value(*s, value, l, box, id, doc);
}

}  // namespace

Result<json> decode(const Metadata& metadata, std::string_view body, const Layout& layout,
                    const SecretBox* box, std::string_view id, WriteStamp* stamp) {
  json doc = json::object();
  doc["id"] = std::string(id);
  for (const auto& [k, v] : metadata) {
    S3DB_RETURN_IF_ERROR(decode_entry(k, v, layout, box, id, doc));
  }
  if (!body.empty() && body.front() == '{') {
    json parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object()) {
      return Status::Internal("decode " + layout.resource + "/" + std::string(id), "body is not a JSON object");
    }
    for (const auto& [k, v] : parsed.items()) {
      if (!v.is_string()) return corrupt(layout, id, k, "body value is not a string");
      if (stamp != nullptr && k == kStampKey) *stamp = WriteStamp::parse(v.get_ref<const std::string&>());
      S3DB_RETURN_IF_ERROR(decode_entry(k, v.get_ref<const std::string&>(), layout, box, id, doc));
    }
  } else if (stamp != nullptr) {  // a bare stamp (or nothing)
    *stamp = stamp_of_body(body);
  }
  return doc;
}

}  // namespace s3db::db
