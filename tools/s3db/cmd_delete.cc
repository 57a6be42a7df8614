// s3db delete RESOURCE ID...   — removes documents (a missing id is not an error, like S3 DELETE).
#include "cli.h"
#include "session.h"

#include <fmt/format.h>

#include <iostream>

namespace s3db::cli {

void add_delete(CLI::App& app, Command& cmd) {
  struct Args { std::string resource; std::vector<std::string> ids; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("delete", "delete documents by id");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("ids", a->ids, "document ids")->required();
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      nlohmann::json deleted = nlohmann::json::array(), failed = nlohmann::json::object();
      std::string first_error;
      for (const auto& id : a->ids) {
        Status s = r.remove(id);
        if (s.ok()) {
          deleted.push_back(id);
        } else {
          failed[id] = s.to_string();
          if (first_error.empty()) first_error = s.to_string();
        }
      }
      emit(g, {{"deleted", deleted}, {"failed", failed}}, fmt::format("deleted {}", deleted.size()));
      if (!failed.empty())
        std::cerr << fmt::format("s3db: {} of {} deletes failed (first: {})\n", failed.size(),
                                 a->ids.size(), first_error);
      return failed.empty() ? kExitOk : kExitOpError;
    };
  });
}

}  // namespace s3db::cli
