// s3db resources — the resources of the database, with schema version and partitions.
#include "cli.h"
#include "session.h"

#include <fmt/format.h>

namespace s3db::cli {

nlohmann::json describe_resource(const Resource& r);  // cmd_create_resource.cc

void add_resources(CLI::App& app, Command& cmd) {
  auto* sub = app.add_subcommand("resources", "list the resources of the database");
  sub->callback([&cmd] {
    cmd.run = [&cmd] {
      const Globals& g = *cmd.globals;
      Database db = open_database(g);
      nlohmann::json arr = nlohmann::json::array();
      std::string text;
      for (const auto& name : db.list_resources()) {
        Resource r = open_resource(db, name);
        arr.push_back(describe_resource(r));
        text += fmt::format("{}\tv{}\t{} attributes\t{}\n", r.name(), r.schema_version(),
                            r.schema().fields().size(), behavior_name(r.behavior()));
      }
      if (arr.empty()) text = "(no resources)";
      emit(g, {{"resources", arr}}, text);
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
