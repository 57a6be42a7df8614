#include "db/catalog.h"

#include "db/stamp.h"

namespace s3db::db {

using nlohmann::json;

std::string_view unknown_name(UnknownAttributes u) noexcept {
  switch (u) {
    case UnknownAttributes::kReject: return "reject";
    case UnknownAttributes::kKeep: return "keep";
    case UnknownAttributes::kStrip: return "strip";
  }
  return "reject";
}

Status check_name(std::string_view what, std::string_view name, bool allow_dot) {
  if (name.empty() || name.size() > 100) {
    return Status::InvalidArgument("invalid " + std::string(what) + " name", "must be 1..100 characters");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || (allow_dot && c == '.');
    if (!ok) {
      return Status::InvalidArgument("invalid " + std::string(what) + " name '" + std::string(name) + "'",
                                     allow_dot ? "allowed: A-Z a-z 0-9 _ - ." : "allowed: A-Z a-z 0-9 _ -");
    }
  }
  return Status::OK();
}

namespace {

struct Bad {
  std::string why;
};

const json& need(const json& obj, const char* field, json::value_t type, const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) throw Bad{where + ": missing \"" + field + "\""};
  const bool ok = it->type() == type ||
                  (type == json::value_t::number_integer && it->is_number_unsigned());
  if (!ok) throw Bad{where + ": \"" + field + "\" has the wrong type"};
  return *it;
}

int need_int(const json& obj, const char* field, const std::string& where, int lo, int hi) {
  const auto v = need(obj, field, json::value_t::number_integer, where).get<std::int64_t>();
  if (v < lo || v > hi) throw Bad{where + ": \"" + field + "\" out of range"};
  return static_cast<int>(v);
}

ResourceDef parse_resource(const std::string& name, const json& r) {
  const std::string where = "resources." + name;
  if (!r.is_object()) throw Bad{where + " is not an object"};
  if (!check_name("resource", name, true).ok()) throw Bad{where + ": invalid resource name"};
  ResourceDef d;
  d.name = name;
  d.current_version = need_int(r, "currentVersion", where, 1, 1000000);
  auto behavior = parse_behavior(need(r, "behavior", json::value_t::string, where).get<std::string>());
  if (!behavior.ok()) throw Bad{where + ": unknown behavior"};
  d.behavior = *behavior;
  d.timestamps = need(r, "timestamps", json::value_t::boolean, where).get<bool>();
  const auto unknown = need(r, "unknownAttributes", json::value_t::string, where).get<std::string>();
  if (unknown == "reject") d.unknown = UnknownAttributes::kReject;
  else if (unknown == "keep") d.unknown = UnknownAttributes::kKeep;
  else if (unknown == "strip") d.unknown = UnknownAttributes::kStrip;
  else throw Bad{where + ": unknown unknownAttributes"};
  d.id_size = need_int(r, "idSize", where, 1, 255);
  d.next_key = need_int(r, "nextKey", where, 0, 1000000);
  d.keys = need(r, "keys", json::value_t::object, where);
  for (const auto& [attr, key] : d.keys.items()) {
    if (!key.is_string() || key.get<std::string>().empty() ||
        key.get<std::string>().find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz") != std::string::npos) {
      throw Bad{where + ".keys." + attr + " is not a short key"};
    }
  }
  for (const auto& [pname, fields] : need(r, "partitions", json::value_t::object, where).items()) {
    PartitionConfig p;
    p.name = pname;
    if (!fields.is_array() || fields.empty()) throw Bad{where + ".partitions." + pname + " is not a list of fields"};
    for (const auto& f : fields) {
      if (!f.is_string()) throw Bad{where + ".partitions." + pname + " is not a list of fields"};
      p.fields.push_back(f.get<std::string>());
    }
    d.partitions.push_back(std::move(p));
  }
  for (const auto& [v, attrs] : need(r, "versions", json::value_t::object, where).items()) {
    int n = 0;
    try {
      n = std::stoi(v);
    } catch (const std::exception&) {
      throw Bad{where + ".versions: \"" + v + "\" is not a version number"};
    }
    if (n < 1 || std::to_string(n) != v) throw Bad{where + ".versions: \"" + v + "\" is not a version number"};
    if (!attrs.is_object() || !attrs.contains("attributes") || !attrs["attributes"].is_object()) {
      throw Bad{where + ".versions." + v + " has no attributes object"};
    }
    d.versions[n] = attrs["attributes"];
  }
  if (!d.versions.count(d.current_version)) throw Bad{where + ": currentVersion has no definition"};
  return d;
}

}  // namespace

Result<Catalog> parse_catalog(std::string_view text, std::string_view key) {
  const auto fail = [&](const std::string& why) {
    return Status::InvalidArgument("s3db.json at " + std::string(key) + " is corrupt", why);
  };
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return fail("not valid JSON");
  if (!root.is_object()) return fail("not a JSON object");
  try {
    if (need(root, "format", json::value_t::string, "root").get<std::string>() != "s3db") {
      return fail("\"format\" is not \"s3db\"");
    }
    const int version = need_int(root, "formatVersion", "root", 0, 1000000);
    if (version != kCatalogFormat) {
      return fail("formatVersion " + std::to_string(version) + " is not supported (this library reads " +
                  std::to_string(kCatalogFormat) + ")");
    }
    Catalog c;
    if (auto it = root.find("security"); it != root.end() && !it->is_null()) {
      if (!it->is_object()) return fail("\"security\" is not an object");
      c.security.salt = need(*it, "salt", json::value_t::string, "security").get<std::string>();
      c.security.iterations = need_int(*it, "iterations", "security", 1, 100000000);
      c.security.check = need(*it, "check", json::value_t::string, "security").get<std::string>();
      if (c.security.salt.empty()) return fail("security.salt is empty");
    }
    for (const auto& [name, r] : need(root, "resources", json::value_t::object, "root").items()) {
      c.resources.emplace(name, parse_resource(name, r));
    }
    return c;
  } catch (const Bad& b) {
    return fail(b.why);
  } catch (const std::exception& e) {  // nlohmann type errors on hostile input
    return fail(e.what());
  }
}

std::string serialize_catalog(const Catalog& c, std::string_view stamp) {
  json root = {{"format", "s3db"}, {"formatVersion", kCatalogFormat}, {kStampKey, stamp}};
  if (c.security.present()) {
    root["security"] = {{"kdf", "pbkdf2-sha256"}, {"cipher", "aes-256-gcm"}, {"salt", c.security.salt},
                        {"iterations", c.security.iterations}, {"check", c.security.check}};
  }
  json resources = json::object();
  for (const auto& [name, d] : c.resources) {
    json partitions = json::object();
    for (const auto& p : d.partitions) partitions[p.name] = p.fields;
    json versions = json::object();
    for (const auto& [v, attrs] : d.versions) versions[std::to_string(v)] = {{"attributes", attrs}};
    resources[name] = {{"currentVersion", d.current_version},
                       {"behavior", behavior_name(d.behavior)},
                       {"timestamps", d.timestamps},
                       {"unknownAttributes", unknown_name(d.unknown)},
                       {"idSize", d.id_size},
                       {"partitions", std::move(partitions)},
                       {"keys", d.keys},
                       {"nextKey", d.next_key},
                       {"versions", std::move(versions)}};
  }
  root["resources"] = std::move(resources);
  return root.dump(2);
}

}  // namespace s3db::db

namespace s3db {

std::string_view behavior_name(MetadataBudget b) noexcept {
  switch (b) {
    case MetadataBudget::kUserManaged: return "user-managed";
    case MetadataBudget::kEnforceLimits: return "enforce-limits";
    case MetadataBudget::kTruncateData: return "truncate-data";
    case MetadataBudget::kBodyOverflow: return "body-overflow";
    case MetadataBudget::kBodyOnly: return "body-only";
  }
  return "user-managed";
}

Result<MetadataBudget> parse_behavior(std::string_view name) {
  for (MetadataBudget b : {MetadataBudget::kUserManaged, MetadataBudget::kEnforceLimits, MetadataBudget::kTruncateData,
                     MetadataBudget::kBodyOverflow, MetadataBudget::kBodyOnly}) {
    if (behavior_name(b) == name) return b;
  }
  return Status::InvalidArgument("unknown behavior '" + std::string(name) + "'",
                                 "expected user-managed, enforce-limits, truncate-data, body-overflow or body-only");
}

}  // namespace s3db
