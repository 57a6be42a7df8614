// s3db insert RESOURCE JSON|-   — inserts one document (conditional create: an existing id fails
// with AlreadyExists). Prints the new id (text) or the stored document (--json).
#include "cli.h"
#include "session.h"

namespace s3db::cli {

void add_insert(CLI::App& app, Command& cmd) {
  struct Args { std::string resource, doc; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("insert", "insert one document (JSON object, or - for stdin)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("document", a->doc, "JSON object, or - to read it from stdin")->required();
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      nlohmann::json doc = parse_json_arg(a->doc, "document");
      if (!doc.is_object()) throw UsageError("document must be a JSON object");
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      nlohmann::json stored = take(r.insert(std::move(doc)));
      emit(g, stored, stored.value("id", ""));
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
