#include "s3db/schema.h"

#include "db/pattern.h"
#include "db/schema_check.h"

#include <charconv>
#include <cmath>

namespace s3db {

using nlohmann::json;

std::string_view field_type_name(FieldType type) noexcept {
  switch (type) {
    case FieldType::kString: return "string";
    case FieldType::kNumber: return "number";
    case FieldType::kInteger: return "integer";
    case FieldType::kBoolean: return "boolean";
    case FieldType::kEmail: return "email";
    case FieldType::kUrl: return "url";
    case FieldType::kDate: return "date";
    case FieldType::kArray: return "array";
    case FieldType::kObject: return "object";
    case FieldType::kJson: return "json";
    case FieldType::kAny: return "any";
    case FieldType::kSecret: return "secret";
  }
  return "any";
}

namespace {

// The key of the explicit nested-object form {"$$type": "object|required", "name": "string", ...}.
constexpr std::string_view kNestedTypeKey = "$$type";

std::optional<FieldType> type_from_name(std::string_view s) {
  static constexpr FieldType kAll[] = {
      FieldType::kString, FieldType::kNumber, FieldType::kInteger, FieldType::kBoolean,
      FieldType::kEmail,  FieldType::kUrl,    FieldType::kDate,    FieldType::kArray,
      FieldType::kObject, FieldType::kJson,   FieldType::kAny,     FieldType::kSecret};
  for (FieldType t : kAll) {
    if (field_type_name(t) == s) return t;
  }
  return std::nullopt;
}

bool string_valued(FieldType t) {
  return t == FieldType::kString || t == FieldType::kEmail || t == FieldType::kUrl || t == FieldType::kDate ||
         t == FieldType::kSecret;
}

Status bad_rule(std::string_view field, std::string_view why) {
  return Status::InvalidArgument("invalid schema", std::string(field) + ": " + std::string(why));
}

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A value given in a rule string (default:, enum:) is text: turn it into a value of the field's type.
Result<json> parse_value(const std::string& path, FieldType type, std::string_view text, std::string_view what) {
  switch (type) {
    case FieldType::kString: case FieldType::kEmail: case FieldType::kUrl:
    case FieldType::kDate: case FieldType::kSecret:
      return json(std::string(text));
    case FieldType::kNumber: case FieldType::kInteger: {
      auto v = parse_number(text);
      if (!v) return bad_rule(path, std::string(what) + " is not a number");
      if (type == FieldType::kInteger) {
        if (!(*v >= -9223372036854775808.0 && *v < 9223372036854775808.0) || *v != std::floor(*v)) {
          return bad_rule(path, std::string(what) + " is not a 64-bit integer");
        }
        return json(static_cast<std::int64_t>(*v));
      }
      return json(*v);
    }
    case FieldType::kBoolean:
      if (text == "true") return json(true);
      if (text == "false") return json(false);
      return bad_rule(path, std::string(what) + " of a boolean must be true or false");
    default: {
      json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (v.is_discarded()) return json(std::string(text));
      return v;
    }
  }
}

Status compile_attributes(const std::string& prefix, const json& attrs, std::vector<FieldRule>& out, bool nested);
Status compile_rule(const std::string& path, const json& rule, FieldRule& r);

Status set_pattern(const std::string& path, std::string_view source, FieldRule& r) {
  auto p = CompiledPattern::compile(source);
  if (!p.ok()) return bad_rule(path, "pattern: " + p.status().message());
  r.pattern = std::string(source);
  r.matcher = std::move(p).value();
  return Status::OK();
}

// The item rule of "items:<type>" (string form): a bare type.
Status set_item_type(const std::string& path, std::string_view name, FieldRule& r) {
  auto t = type_from_name(name);
  if (!t || *t == FieldType::kSecret) return bad_rule(path, "unknown items type \"" + std::string(name) + "\"");
  auto item = std::make_shared<FieldRule>();
  item->type = *t;
  r.items = std::move(item);
  return Status::OK();
}

// Checks that hold whichever form a rule was written in: each modifier on a type it applies to.
Status check_modifiers(const std::string& path, const FieldRule& r) {
  if (r.items && r.type != FieldType::kArray) return bad_rule(path, "items applies to arrays only");
  if (r.unique && r.type != FieldType::kArray) return bad_rule(path, "unique applies to arrays only");
  if (r.pattern && !string_valued(r.type)) {
    return bad_rule(path, "pattern applies to string, email, url, date and secret only");
  }
  if (!r.enum_values.empty()) {
    if (r.type == FieldType::kArray || r.type == FieldType::kObject) {
      return bad_rule(path, "enum applies to scalar types only");
    }
    for (const json& v : r.enum_values) {
      if (!v.is_primitive() || v.is_null() || !db::value_has_type(r.type, v)) {
        return bad_rule(path, "enum value " + v.dump() + " is not a " + std::string(field_type_name(r.type)));
      }
    }
  }
  return Status::OK();
}

// `implied`: the type when the rule names none (the $$type form implies "object").
Status compile_string_rule(const std::string& path, std::string_view rule, FieldRule& r,
                           std::optional<FieldType> implied = std::nullopt) {
  bool typed = false;
  std::optional<std::string_view> default_text;
  std::optional<std::string_view> enum_text;
  while (!rule.empty()) {
    if (rule.substr(0, 8) == "pattern:") {  // the last modifier: takes the rest, '|' included
      S3DB_RETURN_IF_ERROR(set_pattern(path, rule.substr(8), r));
      break;
    }
    const auto bar = rule.find('|');
    std::string_view tok = rule.substr(0, bar);
    rule = bar == std::string_view::npos ? std::string_view{} : rule.substr(bar + 1);
    if (tok.empty()) continue;
    const auto colon = tok.find(':');
    std::string_view key = tok.substr(0, colon);
    std::string_view arg = colon == std::string_view::npos ? std::string_view{} : tok.substr(colon + 1);
    if (colon == std::string_view::npos) {
      if (auto t = type_from_name(key)) {
        if (typed) return bad_rule(path, "more than one type in \"" + std::string(tok) + "\"");
        r.type = *t;
        typed = true;
      } else if (key == "required") {
        r.required = true;
      } else if (key == "optional") {
        r.required = false;
      } else if (key == "unique") {
        r.unique = true;
      } else {
        return bad_rule(path, "unknown rule \"" + std::string(tok) + "\"");
      }
      continue;
    }
    if (key == "min" || key == "max") {
      auto v = parse_number(arg);
      if (!v) return bad_rule(path, "\"" + std::string(tok) + "\" needs a number");
      (key == "min" ? r.min : r.max) = *v;
    } else if (key == "items") {
      S3DB_RETURN_IF_ERROR(set_item_type(path, arg, r));
    } else if (key == "default") {
      default_text = arg;
    } else if (key == "enum") {
      enum_text = arg;
    } else {
      return bad_rule(path, "unknown rule \"" + std::string(tok) + "\"");
    }
  }
  if (!typed && implied) {
    r.type = *implied;
    typed = true;
  }
  if (!typed) return bad_rule(path, "no type (string, number, integer, boolean, ...)");
  if (default_text) {
    auto d = parse_value(path, r.type, *default_text, "default");
    if (!d.ok()) return d.status();
    r.default_value = std::move(d).value();
  }
  if (enum_text) {
    if (enum_text->empty()) return bad_rule(path, "enum needs at least one value");
    for (std::size_t start = 0;;) {
      const auto comma = enum_text->find(',', start);
      auto v = parse_value(path, r.type, enum_text->substr(start, comma - start), "enum value");
      if (!v.ok()) return v.status();
      r.enum_values.push_back(std::move(v).value());
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  return check_modifiers(path, r);
}

bool is_rule_object(const json& v) {
  auto t = v.find("type");
  if (t == v.end() || !t->is_string() || !type_from_name(t->get<std::string>())) return false;
  for (const auto& [k, _] : v.items()) {
    if (k != "type" && k != "required" && k != "optional" && k != "min" && k != "max" && k != "items" &&
        k != "default" && k != "attributes" && k != "pattern" && k != "enum" && k != "unique") {
      return false;
    }
  }
  return true;
}

Status want_boolean(const std::string& path, const json& v, const char* key, bool& out) {
  auto it = v.find(key);
  if (it == v.end()) return Status::OK();
  if (!it->is_boolean()) return bad_rule(path, std::string(key) + " must be a boolean");
  out = it->get<bool>();
  return Status::OK();
}

Status compile_object_rule(const std::string& path, const json& v, FieldRule& r) {
  r.type = *type_from_name(v["type"].get<std::string>());
  S3DB_RETURN_IF_ERROR(want_boolean(path, v, "required", r.required));
  bool optional = !r.required;
  S3DB_RETURN_IF_ERROR(want_boolean(path, v, "optional", optional));
  r.required = !optional;
  S3DB_RETURN_IF_ERROR(want_boolean(path, v, "unique", r.unique));
  for (const char* k : {"min", "max"}) {
    if (auto it = v.find(k); it != v.end()) {
      if (!it->is_number()) return bad_rule(path, std::string(k) + " must be a number");
      (k[1] == 'i' ? r.min : r.max) = it->get<double>();
    }
  }
  if (auto it = v.find("items"); it != v.end()) {
    if (r.type != FieldType::kArray) return bad_rule(path, "items applies to arrays only");
    auto item = std::make_shared<FieldRule>();
    S3DB_RETURN_IF_ERROR(compile_rule(path + "[]", *it, *item));
    if (item->type == FieldType::kSecret) return bad_rule(path + "[]", "items cannot be secret");
    r.items = std::move(item);
  }
  if (auto it = v.find("default"); it != v.end()) r.default_value = *it;
  if (auto it = v.find("pattern"); it != v.end()) {
    if (!it->is_string()) return bad_rule(path, "pattern must be a string");
    S3DB_RETURN_IF_ERROR(set_pattern(path, it->get_ref<const std::string&>(), r));
  }
  if (auto it = v.find("enum"); it != v.end()) {
    if (!it->is_array() || it->empty()) return bad_rule(path, "enum must be a non-empty array");
    r.enum_values.assign(it->begin(), it->end());
  }
  if (auto it = v.find("attributes"); it != v.end()) {
    if (r.type != FieldType::kObject || !it->is_object()) {
      return bad_rule(path, "attributes applies to objects only and must be an object");
    }
    S3DB_RETURN_IF_ERROR(compile_attributes(path + ".", *it, r.children, true));
  }
  return check_modifiers(path, r);
}

// {"$$type": "object|required", "name": "string", ...}: the rule string of the object itself
// ("object" may be left out), then its attributes.
Status compile_nested_typed(const std::string& path, const json& v, FieldRule& r) {
  const json& type = v[std::string(kNestedTypeKey)];
  if (!type.is_string()) return bad_rule(path, "$$type must be a rule string");
  S3DB_RETURN_IF_ERROR(compile_string_rule(path, type.get_ref<const std::string&>(), r, FieldType::kObject));
  if (r.type != FieldType::kObject) return bad_rule(path, "$$type must be object");
  return compile_attributes(path + ".", v, r.children, true);
}

Status compile_rule(const std::string& path, const json& rule, FieldRule& r) {
  if (rule.is_string()) return compile_string_rule(path, rule.get_ref<const std::string&>(), r);
  if (!rule.is_object()) return bad_rule(path, "a rule is a string or an object");
  if (rule.contains(kNestedTypeKey)) return compile_nested_typed(path, rule, r);
  if (is_rule_object(rule)) return compile_object_rule(path, rule, r);
  r.type = FieldType::kObject;
  return compile_attributes(path + ".", rule, r.children, true);
}

// `prefix` is the path of the enclosing object ("" at the top, "address." below) for messages.
Status compile_attributes(const std::string& prefix, const json& attrs, std::vector<FieldRule>& out, bool nested) {
  if (!attrs.is_object()) return Status::InvalidArgument("invalid schema", "attributes must be a JSON object");
  for (const auto& [name, rule] : attrs.items()) {
    if (nested && name == kNestedTypeKey) continue;  // the enclosing object's own rule
    const std::string path = prefix + name;
    if (name.empty()) return bad_rule(path, "empty attribute name");
    if (!nested && db::is_reserved_attribute(name)) return bad_rule(path, "reserved attribute name");
    if (name.front() == '$') return bad_rule(path, "attribute names may not start with '$'");
    FieldRule r;
    r.name = name;
    S3DB_RETURN_IF_ERROR(compile_rule(path, rule, r));
    if (nested && r.type == FieldType::kSecret) return bad_rule(path, "secret attributes must be top-level");
    out.push_back(std::move(r));
  }
  return Status::OK();
}

}  // namespace

struct Schema::Impl {
  std::vector<FieldRule> fields;
  json source = json::object();
  bool secrets = false;
};

Schema::Schema() : impl_(std::make_shared<const Impl>()) {}

Result<Schema> Schema::compile(const json& attributes) {
  auto impl = std::make_shared<Impl>();
  S3DB_RETURN_IF_ERROR(compile_attributes("", attributes, impl->fields, false));
  impl->source = attributes;
  for (const auto& f : impl->fields) impl->secrets |= f.type == FieldType::kSecret;
  Schema s;
  s.impl_ = std::move(impl);
  return s;
}

std::vector<FieldError> Schema::check(json& doc, UnknownAttributes unknown, bool partial) const {
  std::vector<FieldError> errors;
  if (!doc.is_object()) {
    errors.push_back({"(document)", "type:object"});
    return errors;
  }
  db::check_document(impl_->fields, doc, unknown, partial, errors);
  return errors;
}

Status Schema::validate(json& doc, UnknownAttributes unknown, bool partial) const {
  auto errors = check(doc, unknown, partial);
  if (errors.empty()) return Status::OK();
  return validation_error(errors);
}

const std::vector<FieldRule>& Schema::fields() const noexcept { return impl_->fields; }

const FieldRule* Schema::find(std::string_view name) const noexcept {
  for (const auto& f : impl_->fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

int Schema::index_of(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < impl_->fields.size(); ++i) {
    if (impl_->fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool Schema::has_secrets() const noexcept { return impl_->secrets; }
const json& Schema::source() const noexcept { return impl_->source; }

Status validation_error(const std::vector<FieldError>& errors) {
  std::string msg;
  for (const auto& e : errors) {
    if (!msg.empty()) msg += ", ";
    msg += e.field + " (" + e.rule + ")";
  }
  return Status::InvalidArgument("validation failed", msg);
}

}  // namespace s3db
