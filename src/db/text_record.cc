#include "db/text_record.h"

#include "db/ids.h"
#include "db/records.h"
#include "db/schema_check.h"
#include "db/text.h"

#include <simdjson.h>

#include <algorithm>

namespace s3db::db {

using nlohmann::json;
namespace od = simdjson::ondemand;

namespace {

// Texts above this size leave the reader's buffers behind them, not kept per thread.
constexpr std::size_t kKeepBuffersUpTo = 1 << 20;

// One member of an object being written: its key (a view into the parser's string buffer, valid
// for the document) and where its value's text sits in the output.
struct Member {
  std::string_view key;
  std::size_t begin, end;
};

// Per thread (each pool worker reads its own texts): the parser and the scratch space of a pass,
// reused so that a record costs no allocation beyond the values it encodes.
struct Reader {
  od::parser parser;
  std::string padded;            // the text, followed by the padding simdjson reads into
  std::vector<Member> members;   // a stack: each object being written owns the members above its mark
  std::string reorder;           // an object's member texts while they are written back sorted
  std::vector<std::uint8_t> state;
  std::vector<Scalar> scalars;
  std::vector<Field> fields;
  std::vector<Field> placed;
  std::string extra;             // kept unknown attributes' values (UnknownAttributes::kKeep)

  void shrink() {
    parser = od::parser{};
    padded = std::string();
    members = {};
    reorder = std::string();
    extra = std::string();
    fields = {};
    placed = {};
  }
};

Reader& reader() {
  thread_local Reader r;
  return r;
}

// A number in the class nlohmann's parser gives it. False for what the DOM reads differently (an
// integer beyond 64 bits becomes a float there) or refuses.
bool read_number(od::value& v, Scalar& s) {
  od::number_type t;
  if (v.get_number_type().get(t)) return false;
  switch (t) {
    case od::number_type::floating_point_number:
      s.kind = Scalar::Kind::kFloat;
      return !v.get_double().get(s.d);
    case od::number_type::signed_integer: {
      std::int64_t i;
      if (v.get_int64().get(i)) return false;
      if (i >= 0) {
        s.kind = Scalar::Kind::kUnsigned;
        s.u = static_cast<std::uint64_t>(i);
      } else {
        s.kind = Scalar::Kind::kSigned;
        s.i = i;
      }
      return true;
    }
    case od::number_type::unsigned_integer:
      s.kind = Scalar::Kind::kUnsigned;
      return !v.get_uint64().get(s.u);
  }
  return false;
}

bool read_null(od::value& v) {
  bool is_null = false;
  return !v.is_null().get(is_null) && is_null;
}

// A string, number or boolean (`t` says which).
bool read_scalar(od::value& v, od::json_type t, Scalar& s) {
  switch (t) {
    case od::json_type::string:
      s.kind = Scalar::Kind::kString;
      return !v.get_string().get(s.str);
    case od::json_type::number: return read_number(v, s);
    case od::json_type::boolean:
      s.kind = Scalar::Kind::kBool;
      return !v.get_bool().get(s.b);
    default: return false;
  }
}

bool write_json(od::value v, std::string& out, Reader& r);

// Appends the object made of `members` (their values' texts in `values`, at offsets counted from
// `base`) as dump_json writes what the DOM parses: sorted by key, the last of a repeated key
// kept. Sorts the members in place.
void append_sorted_object(std::vector<Member>::iterator first, std::vector<Member>::iterator last,
                          const std::string& values, std::size_t base, std::string& out) {
  std::stable_sort(first, last, [](const Member& a, const Member& b) { return a.key < b.key; });
  out += '{';
  bool any = false;
  for (auto it = first; it != last; ++it) {
    if (it + 1 != last && (it + 1)->key == it->key) continue;  // a later value wins
    if (any) out += ',';
    any = true;
    dump_string(it->key, out);
    out += ':';
    out.append(values, it->begin - base, it->end - it->begin);
  }
  out += '}';
}

bool write_object(od::object o, std::string& out, Reader& r) {
  const std::size_t mark = r.members.size();
  const std::size_t start = out.size();
  for (auto item : o) {
    od::field f;
    if (std::move(item).get(f)) return false;
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    const std::size_t begin = out.size();
    if (!write_json(f.value(), out, r)) return false;
    r.members.push_back(Member{key, begin, out.size()});
  }
  // The nested objects are written: the scratch is free until this one is.
  r.reorder.assign(out, start, std::string::npos);
  out.resize(start);
  append_sorted_object(r.members.begin() + static_cast<std::ptrdiff_t>(mark), r.members.end(), r.reorder, start, out);
  r.members.resize(mark);
  return true;
}

bool write_json(od::value v, std::string& out, Reader& r) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      return !v.get_object().get(o) && write_object(o, out, r);
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return false;
      out += '[';
      bool any = false;
      for (auto item : a) {
        od::value e;
        if (std::move(item).get(e)) return false;
        if (any) out += ',';
        any = true;
        if (!write_json(e, out, r)) return false;
      }
      out += ']';
      return true;
    }
    case od::json_type::null:
      if (!read_null(v)) return false;
      out += "null";
      return true;
    default: {
      Scalar s;
      if (!read_scalar(v, t, s)) return false;
      dump_scalar(s, out);
      return true;
    }
  }
}

// The DOM's json of the value: for the attributes whose rules look inside it.
bool to_json(od::value v, json& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o)) return false;
      out = json::object();
      for (auto item : o) {
        od::field f;
        if (std::move(item).get(f)) return false;
        std::string_view key;
        if (f.unescaped_key().get(key)) return false;
        json& member = out[std::string(key)];  // a repeated key: the later value wins, as in the DOM
        if (!to_json(f.value(), member)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return false;
      out = json::array();
      for (auto item : a) {
        od::value e;
        if (std::move(item).get(e)) return false;
        if (!to_json(e, out.emplace_back())) return false;
      }
      return true;
    }
    case od::json_type::null:
      out = nullptr;
      return read_null(v);
    default: {
      Scalar s;
      if (!read_scalar(v, t, s)) return false;
      switch (s.kind) {
        case Scalar::Kind::kString: out = std::string(s.str); break;
        case Scalar::Kind::kSigned: out = s.i; break;
        case Scalar::Kind::kUnsigned: out = s.u; break;
        case Scalar::Kind::kFloat: out = s.d; break;
        case Scalar::Kind::kBool: out = s.b; break;
      }
      return true;
    }
  }
}

bool plain_scalar_type(FieldType t) {
  switch (t) {
    case FieldType::kString: case FieldType::kNumber: case FieldType::kInteger: case FieldType::kBoolean:
    case FieldType::kEmail: case FieldType::kUrl: case FieldType::kDate:
      return true;
    default: return false;
  }
}

bool holds_arrays(FieldType t) { return t == FieldType::kArray || t == FieldType::kJson || t == FieldType::kAny; }
bool holds_objects(FieldType t) { return t == FieldType::kObject || t == FieldType::kJson || t == FieldType::kAny; }

// Rules this pass checks itself on an array: a size, and items of a plain scalar type with their
// own bounds, pattern or enum. Anything deeper is left to the DOM's rules (to_json).
bool array_rules_are_flat(const FieldRule& r) {
  if (r.unique || !r.enum_values.empty()) return false;
  if (!r.items) return true;
  const FieldRule& i = *r.items;
  return plain_scalar_type(i.type) && i.children.empty() && !i.items && !i.unique;
}

// An array value of a flat-ruled attribute, written as dump_json would, its items checked.
bool write_checked_array(od::value v, const FieldRule& r, std::string& out, Reader& reader) {
  od::array a;
  if (v.get_array().get(a)) return false;
  out += '[';
  std::size_t count = 0;
  for (auto item : a) {
    od::value e;
    if (std::move(item).get(e)) return false;
    if (count++ > 0) out += ',';
    if (!r.items) {
      if (!write_json(e, out, reader)) return false;
      continue;
    }
    od::json_type t;
    Scalar s;
    if (e.type().get(t) || !read_scalar(e, t, s) || !value_passes(*r.items, s)) return false;
    dump_scalar(s, out);
  }
  out += ']';
  const auto size = static_cast<double>(count);
  return !(r.min && size < *r.min) && !(r.max && size > *r.max);
}

enum SlotState : std::uint8_t { kAbsent, kNull, kScalar, kEncoded };

void load(Reader& r, std::string_view text) {
  r.padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::copy(text.begin(), text.end(), r.padded.begin());
}

}  // namespace

std::string find_text_id(std::string_view text) {
  Reader& r = reader();
  load(r, text);
  od::document doc;
  od::object root;
  if (r.parser.iterate(r.padded.data(), text.size(), r.padded.size()).get(doc) || doc.get_object().get(root)) return {};
  for (auto item : root) {
    od::field f;
    std::string_view key;
    if (std::move(item).get(f) || f.unescaped_key().get(key)) return {};
    if (key != "id") continue;
    std::string_view id;
    if (f.value().get_string().get(id)) return {};
    return std::string(id);
  }
  return {};
}

Result<TextPass> encode_text(std::string_view text, const Runtime& rt, const SecretBox* box,
                             const std::function<std::string()>& generate, const WriteStamp& stamp,
                             TextRecord& rec, Encoded& out) {
  constexpr auto kDom = TextPass::kNeedsDom;
  Reader& r = reader();
  struct ShrinkAfterBigText {
    Reader& r;
    bool big;
    ~ShrinkAfterBigText() {
      if (big) r.shrink();
    }
  } shrink{r, text.size() > kKeepBuffersUpTo};
  load(r, text);
  od::document doc;
  od::object root;
  if (r.parser.iterate(r.padded.data(), text.size(), r.padded.size()).get(doc) || doc.get_object().get(root)) {
    return kDom;
  }
  const Layout& layout = *rt.layout;
  const std::vector<FieldRule>& rules = rt.schema->fields();
  const std::size_t n_rules = rules.size();
  const std::size_t n_slots = layout.slots.size();  // the rules', then createdAt and updatedAt
  r.state.assign(n_slots, kAbsent);
  r.scalars.resize(n_slots);
  r.fields.resize(n_slots);  // only their `owned` is used: values written during the walk
  for (Field& f : r.fields) f.owned.clear();
  r.extra.clear();
  r.members.clear();
  bool id_seen = false;
  bool id_given = false;  // a string, even an empty one (check_id refuses it then)

  for (auto item : root) {
    od::field f;
    std::string_view key;
    if (std::move(item).get(f) || f.unescaped_key().get(key)) return kDom;
    od::value v = f.value();
    od::json_type t;
    if (v.type().get(t)) return kDom;
    if (key == "id") {
      if (id_seen) return kDom;
      id_seen = true;
      if (t == od::json_type::null) {
        if (!read_null(v)) return kDom;
        continue;
      }
      std::string_view id;
      if (t != od::json_type::string || v.get_string().get(id)) return kDom;
      if (!rec.id.empty() && rec.id != id) return kDom;  // found before the pass (find_text_id): the same
      rec.id = id;
      id_given = true;
      continue;
    }
    std::size_t slot = 0;
    while (slot < n_slots && layout.slots[slot].name != key) ++slot;
    if (slot == n_slots) {  // not an attribute
      if (rt.def.unknown == UnknownAttributes::kReject) return kDom;
      const std::size_t begin = r.extra.size();
      if (!write_json(v, r.extra, r)) return kDom;  // read whole even when stripped: it must be JSON
      if (rt.def.unknown == UnknownAttributes::kStrip) r.extra.resize(begin);
      else r.members.push_back(Member{key, begin, r.extra.size()});
      continue;
    }
    if (r.state[slot] != kAbsent) return kDom;  // given twice: the DOM keeps the last
    std::string& field = r.fields[slot].owned;
    if (t == od::json_type::null) {
      if (!read_null(v)) return kDom;
      r.state[slot] = kNull;
      continue;
    }
    const bool scalar = t != od::json_type::array && t != od::json_type::object;
    if (slot >= n_rules) {  // createdAt, updatedAt: owned by the Resource, not the schema
      if (scalar) {
        if (!read_scalar(v, t, r.scalars[slot])) return kDom;
        r.state[slot] = kScalar;
      } else {
        if (!write_json(v, field, r)) return kDom;
        r.state[slot] = kEncoded;
      }
      continue;
    }
    const FieldRule& rule = rules[slot];
    if (scalar) {
      if (!read_scalar(v, t, r.scalars[slot]) || !value_passes(rule, r.scalars[slot])) return kDom;
      r.state[slot] = kScalar;
      continue;
    }
    const bool array = t == od::json_type::array;
    if (array ? !holds_arrays(rule.type) : !holds_objects(rule.type)) return kDom;  // a type error
    if (array && array_rules_are_flat(rule)) {
      if (!write_checked_array(v, rule, field, r)) return kDom;
    } else if (!array && rule.children.empty() && rule.enum_values.empty()) {
      if (!write_json(v, field, r)) return kDom;
    } else {  // rules inside the value: the DOM's, on a json of this value alone
      json value;
      if (!to_json(v, value) || !value_passes(rule, value, rt.def.unknown)) return kDom;
      dump_json(value, field);  // what encode_value() writes for an array or an object
    }
    r.state[slot] = kEncoded;
  }
  {  // what follows the object: whitespace only (current_location() fails at the end)
    const char* rest = nullptr;
    if (!doc.current_location().get(rest)) return kDom;
  }

  if (!id_given && rec.id.empty()) rec.id = generate();
  if (!check_id(rec.id).ok()) return kDom;
  if (rt.def.timestamps) {
    for (std::size_t slot = n_rules; slot < n_slots; ++slot) {
      Scalar& s = r.scalars[slot];
      const bool given = r.state[slot] != kAbsent && r.state[slot] != kNull;
      if (rec.restoring && given) {
        if (r.state[slot] != kScalar || s.kind != Scalar::Kind::kString || !valid_date(s.str)) return kDom;
        continue;
      }
      if (rec.now.empty()) rec.now = now_iso8601();
      s = Scalar{};
      s.kind = Scalar::Kind::kString;
      s.str = rec.now;
      r.state[slot] = kScalar;
    }
  }
  // Every rule is checked before anything is encoded: the DOM path validates the whole document
  // first, so a missing attribute is its error even where encoding would fail (a secret without
  // a passphrase).
  for (std::size_t slot = 0; slot < n_rules; ++slot) {
    const bool missing = r.state[slot] == kAbsent || r.state[slot] == kNull;
    if (missing && rules[slot].required && !rules[slot].default_value) return kDom;
  }
  // Fields are made in place: a field's raw value may view its own (short) string.
  r.placed.clear();
  r.placed.reserve(n_slots + 1);
  for (std::size_t slot = 0; slot < n_slots; ++slot) {
    const Slot& s = layout.slots[slot];
    const auto state = r.state[slot];
    const bool from_default = (state == kAbsent || state == kNull) && slot < n_rules && rules[slot].default_value;
    if ((state == kAbsent || state == kNull) && !from_default) continue;
    Field& f = r.placed.emplace_back();
    f.key = s.key;
    f.type = s.type;
    if (from_default) {
      S3DB_RETURN_IF_ERROR(encode_value(s, *rules[slot].default_value, layout, box, rec.id, f));
    } else if (state == kScalar) {
      S3DB_RETURN_IF_ERROR(encode_scalar(s, r.scalars[slot], layout, box, rec.id, f));
    } else {
      f.owned = std::move(r.fields[slot].owned);
      f.raw = f.owned;
    }
  }
  if (!r.members.empty()) {
    Field& f = r.placed.emplace_back();
    f.key = kExtraKey;
    f.type = FieldType::kJson;
    // The kept attributes as one object, written like a nested one.
    append_sorted_object(r.members.begin(), r.members.end(), r.extra, 0, f.owned);
    f.raw = f.owned;
  }
  auto placed = place(r.placed, layout, rt.def.behavior, stamp);
  if (!placed.ok()) return placed.status();
  out = std::move(placed).value();
  return TextPass::kEncoded;
}

}  // namespace s3db::db
