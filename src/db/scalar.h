// Internal: a JSON scalar (string, number or boolean) seen without a DOM. insert_json's one-pass
// reader (db/text_record.h) validates and encodes it with the same code as a parsed value
// (db/schema_check.h, db/codec.h): a parsed value is viewed as a Scalar there.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>

namespace s3db::db {

// Numbers keep the class nlohmann's parser gives them: non-negative integers unsigned, negative
// ones signed, anything with a fraction or an exponent a float.
struct Scalar {
  enum class Kind : std::uint8_t { kString, kSigned, kUnsigned, kFloat, kBool };
  Kind kind = Kind::kBool;
  std::string_view str;  // kString (a view: the owner outlives the Scalar)
  std::int64_t i = 0;    // kSigned
  std::uint64_t u = 0;   // kUnsigned
  double d = 0;          // kFloat
  bool b = false;        // kBool

  bool is_number() const noexcept { return kind == Kind::kSigned || kind == Kind::kUnsigned || kind == Kind::kFloat; }
  double as_double() const noexcept {
    switch (kind) {
      case Kind::kSigned: return static_cast<double>(i);
      case Kind::kUnsigned: return static_cast<double>(u);
      case Kind::kFloat: return d;
      default: return 0;
    }
  }
};

// `v` (a string, number or boolean) as a Scalar viewing it.
inline Scalar scalar_of(const nlohmann::json& v) noexcept {
  using json = nlohmann::json;
  Scalar s;
  switch (v.type()) {
    case json::value_t::string: s.kind = Scalar::Kind::kString; s.str = v.get_ref<const std::string&>(); break;
    case json::value_t::number_integer: s.kind = Scalar::Kind::kSigned; s.i = v.get<std::int64_t>(); break;
    case json::value_t::number_unsigned: s.kind = Scalar::Kind::kUnsigned; s.u = v.get<std::uint64_t>(); break;
    case json::value_t::number_float: s.kind = Scalar::Kind::kFloat; s.d = v.get<double>(); break;
    default: s.kind = Scalar::Kind::kBool; s.b = v.is_boolean() && v.get<bool>(); break;
  }
  return s;
}

}  // namespace s3db::db
