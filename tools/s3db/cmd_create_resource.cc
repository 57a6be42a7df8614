// s3db create-resource NAME (--schema FILE.json | --attr name=rule ...) [--behavior B]
//                           [--partition NAME:field[,field...]] [--timestamps]
// A schema file holds either the attributes object itself or a whole definition:
//   {"attributes": {...}, "behavior": "body-overflow", "partitions": {"byCountry": ["country"]},
//    "timestamps": true}
#include "cli.h"
#include "session.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace s3db::cli {
namespace {

struct Args {
  std::string name, schema_file, behavior;
  std::vector<std::string> attrs, partitions;
  bool timestamps = false;
};

nlohmann::json read_json_file(const std::string& path) {
  if (path == "-") return parse_json_arg("-", "--schema");
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read schema file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_json_arg(ss.str(), ("schema file '" + path + "'").c_str());
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

int run(const Globals& g, const Args& a) {
  ResourceConfig cfg;
  cfg.name = a.name;
  if (!a.schema_file.empty()) {
    nlohmann::json doc = read_json_file(a.schema_file);
    if (!doc.is_object()) throw UsageError("schema file must hold a JSON object");
    if (doc.contains("attributes")) {
      cfg.attributes = doc["attributes"];
      if (doc.contains("behavior")) {
        if (!doc["behavior"].is_string()) throw UsageError("schema file: \"behavior\" must be a string");
        auto b = parse_behavior(doc["behavior"].get<std::string>());
        if (!b.ok()) throw UsageError("schema file: " + b.status().message());
        cfg.behavior = *b;
      }
      if (doc.contains("partitions")) {
        if (!doc["partitions"].is_object()) throw UsageError("schema file: \"partitions\" must be an object");
        for (auto& [name, fields] : doc["partitions"].items()) {
          PartitionConfig p{name, {}};
          if (fields.is_string()) fields = nlohmann::json::array({fields});
          if (!fields.is_array()) throw UsageError("schema file: partition " + name + " needs field names");
          for (auto& f : fields) {
            if (!f.is_string()) throw UsageError("schema file: partition " + name + " needs field names");
            p.fields.push_back(f.get<std::string>());
          }
          cfg.partitions.push_back(std::move(p));
        }
      }
      if (doc.contains("timestamps")) cfg.timestamps = doc["timestamps"].get<bool>();
    } else {
      cfg.attributes = doc;
    }
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
  sub->add_option("--schema", args->schema_file, "JSON file: attributes, or {attributes, behavior, partitions}");
  sub->add_option("--attr", args->attrs, "attribute rule inline, e.g. --attr 'name=string|required'");
  sub->add_option("--behavior", args->behavior,
                  "user-managed | enforce-limits | truncate-data | body-overflow | body-only");
  sub->add_option("--partition", args->partitions, "partition NAME:field[,field...]");
  sub->add_flag("--timestamps", args->timestamps, "maintain createdAt/updatedAt");
  sub->callback([&cmd, args] { cmd.run = [&cmd, args] { return run(*cmd.globals, *args); }; });
}

}  // namespace s3db::cli
