// s3db get RESOURCE ID   — prints the document (pretty; compact with --json). NotFound → exit 1.
#include "cli.h"
#include "session.h"

namespace s3db::cli {

void add_get(CLI::App& app, Command& cmd) {
  struct Args { std::string resource, id; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("get", "print one document");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("id", a->id, "document id")->required();
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      nlohmann::json doc = take(r.get(a->id));
      emit(g, doc, doc.dump(2));
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
