// s3db create-resource NAME (--schema FILE.json | --attr name=rule ...) [--behavior B]
//                           [--partition NAME:field[,field...]] [--timestamps]
// A schema file holds either the attributes object itself or a whole definition:
//   {"attributes": {...}, "behavior": "body-overflow", "partitions": {"byCountry": ["country"]},
//    "timestamps": true}
// Every malformed schema (invalid JSON, a wrong type, an unknown key, a bad rule, here or in
// --attr) is a usage error (exit 2) naming the file and the field, checked before any I/O.
#include "cli.h"
#include "input_file.h"
#include "session.h"

#include <fmt/format.h>

#include <sstream>

namespace s3db::cli {
namespace {

struct Args {
  std::string name;
  DefinitionArgs def;
};

// "schema file 'path'" (or "schema from stdin"): every message about the file starts with it.
std::string schema_source(const std::string& path) {
  return path == "-" ? "schema from stdin" : "schema file '" + path + "'";
}

nlohmann::json read_json_file(const std::string& path) {
  std::string text = InputFile::open(path).read_all();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e400
    throw UsageError(schema_source(path) + " is not valid JSON: " + parse_error_text(e));
  }
}

// The definition form of a schema file; every wrong key or type is a UsageError naming the file
// and the field, never a library or nlohmann exception text.
void apply_definition(const nlohmann::json& doc, const std::string& where, ResourceConfig& cfg) {
  for (const auto& [key, value] : doc.items()) {
    if (key != "attributes" && key != "behavior" && key != "partitions" && key != "timestamps")
      throw UsageError(where + ": unknown key \"" + key + "\" (allowed: attributes, behavior, partitions, timestamps)");
  }
  const auto& attrs = doc["attributes"];
  if (!attrs.is_object())
    throw UsageError(where + ": \"attributes\" must be an object of name: rule, not " + attrs.type_name());
  cfg.attributes = attrs;
  if (doc.contains("behavior")) {
    const auto& b = doc["behavior"];
    if (!b.is_string()) throw UsageError(where + ": \"behavior\" must be a string, not " + b.type_name());
    auto parsed = parse_behavior(b.get<std::string>());
    if (!parsed.ok()) throw UsageError(where + ": \"behavior\": " + parsed.status().message());
    cfg.behavior = *parsed;
  }
  if (doc.contains("partitions")) {
    const auto& parts = doc["partitions"];
    if (!parts.is_object())
      throw UsageError(where + ": \"partitions\" must be an object of name: [fields], not " + parts.type_name());
    for (const auto& [name, fields] : parts.items()) {
      const std::string bad = where + ": partition \"" + name + "\" must be a field name or an array of field names";
      PartitionConfig p{name, {}};
      if (fields.is_string()) {
        p.fields.push_back(fields.get<std::string>());
      } else if (fields.is_array() && !fields.empty()) {
        for (const auto& f : fields) {
          if (!f.is_string()) throw UsageError(bad + ", not an array holding " + f.type_name());
          p.fields.push_back(f.get<std::string>());
        }
      } else {
        throw UsageError(bad + (fields.is_array() ? ", not an empty array" : std::string(", not ") + fields.type_name()));
      }
      cfg.partitions.push_back(std::move(p));
    }
  }
  if (doc.contains("timestamps")) {
    const auto& t = doc["timestamps"];
    if (!t.is_boolean()) throw UsageError(where + ": \"timestamps\" must be true or false, not " + t.type_name());
    cfg.timestamps = t.get<bool>();
  }
}

PartitionConfig parse_partition(const std::string& spec) {
  auto colon = spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw UsageError("--partition expects NAME:field[,field...], got '" + spec + "'");
  PartitionConfig p;
  p.name = spec.substr(0, colon);
  std::stringstream fields(spec.substr(colon + 1));
  for (std::string f; std::getline(fields, f, ',');)
    if (!f.empty()) p.fields.push_back(f);
  return p;
}

nlohmann::json describe(const Resource& r) {
  nlohmann::json parts = nlohmann::json::object();
  for (const auto& p : r.partitions()) parts[p.name] = p.fields;
  return {{"name", r.name()}, {"schema_version", r.schema_version()},
          {"behavior", std::string(behavior_name(r.behavior()))},
          {"attributes", r.schema().source()}, {"partitions", parts}};
}

}  // namespace

bool DefinitionArgs::given() const {
  return !schema_file.empty() || !attrs.empty() || !behavior.empty() || !partitions.empty() || timestamps;
}

void add_definition_options(CLI::App* sub, DefinitionArgs& d) {
  sub->add_option("--schema", d.schema_file, "JSON file: attributes, or {attributes, behavior, partitions}");
  sub->add_option("--attr", d.attrs, "attribute rule inline, e.g. --attr 'name=string|required'");
  sub->add_option("--behavior", d.behavior,
                  "user-managed | enforce-limits | truncate-data | body-overflow | body-only");
  sub->add_option("--partition", d.partitions, "partition NAME:field[,field...]");
  sub->add_flag("--timestamps", d.timestamps, "maintain createdAt/updatedAt");
}

ResourceConfig resource_config(const std::string& name, const DefinitionArgs& a) {
  ResourceConfig cfg;
  cfg.name = name;
  const std::string where = schema_source(a.schema_file);
  if (!a.schema_file.empty()) {
    nlohmann::json doc = read_json_file(a.schema_file);
    if (!doc.is_object()) throw UsageError(where + " must hold a JSON object, not " + doc.type_name());
    if (doc.contains("attributes")) apply_definition(doc, where, cfg);
    else cfg.attributes = std::move(doc);
  }
  for (const auto& item : a.attrs) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--attr expects name=rule, got '" + item + "'");
    cfg.attributes[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (!a.behavior.empty()) {
    auto b = parse_behavior(a.behavior);
    if (!b.ok()) throw UsageError("--behavior: " + b.status().message());
    cfg.behavior = *b;
  }
  for (const auto& spec : a.partitions) cfg.partitions.push_back(parse_partition(spec));
  if (a.timestamps) cfg.timestamps = true;
  // The library's own checks, before any I/O: a bad definition is the user's mistake (exit 2).
  std::string source = a.schema_file.empty() ? "" : where;
  if (!a.attrs.empty()) source += source.empty() ? "--attr" : " with --attr";
  if (!a.partitions.empty()) source += source.empty() ? "--partition" : " with --partition";
  if (Status valid = cfg.validate(); !valid.ok()) throw UsageError(source + ": " + valid.message());
  return cfg;
}

namespace {

int run(const Globals& g, const Args& a) {
  ResourceConfig cfg = resource_config(a.name, a.def);
  Database db = open_database(g);
  Resource r = take(db.create_resource(std::move(cfg)));
  emit(g, describe(r),
       fmt::format("resource {} (schema version {}, {} attributes, behavior {})", r.name(),
                   r.schema_version(), r.schema().fields().size(), behavior_name(r.behavior())));
  return kExitOk;
}

}  // namespace

nlohmann::json describe_resource(const Resource& r) { return describe(r); }

void add_create_resource(CLI::App& app, Command& cmd) {
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("create-resource", "create a resource (or a new schema version of it)");
  sub->add_option("name", args->name, "resource name")->required();
  add_definition_options(sub, args->def);
  sub->callback([&cmd, args] { cmd.run = [&cmd, args] { return run(*cmd.globals, *args); }; });
}

}  // namespace s3db::cli
