// s3db delete RESOURCE ID... [-f|--force]
// Removes documents. A missing id is an error (NotFound, exit 1, the message names the id), as
// Resource::remove reports it: a typo in an id is not silently "deleted". With --force a missing
// id is not an error (like rm -f): it is listed under "missing". Every id is attempted; each
// failure is one stderr line naming its id.
#include "cli.h"
#include "session.h"

#include <fmt/format.h>

namespace s3db::cli {

void add_delete(CLI::App& app, Command& cmd) {
  struct Args { std::string resource; std::vector<std::string> ids; bool force = false; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("delete", "delete documents by id (a missing id is an error unless --force)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("ids", a->ids, "document ids")->required();
  sub->add_flag("-f,--force", a->force, "a missing id is not an error (reported as missing)");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      nlohmann::json deleted = nlohmann::json::array(), missing = nlohmann::json::array(),
                     failed = nlohmann::json::object();
      std::vector<std::string> errors;
      for (const auto& id : a->ids) {
        Status s = r.remove(id);
        if (s.ok()) {
          deleted.push_back(id);
        } else if (a->force && s.is_not_found()) {
          missing.push_back(id);
        } else {
          failed[id] = s.to_string();
          errors.push_back(s.to_string());
        }
      }
      std::string text = fmt::format("deleted {}", deleted.size());
      if (!missing.empty()) text += fmt::format(", {} missing", missing.size());
      if (!failed.empty()) text += fmt::format(", {} failed", failed.size());
      emit(g, {{"deleted", deleted}, {"missing", missing}, {"failed", failed}}, text);
      for (auto& e : errors) print_error(std::move(e));
      return failed.empty() ? kExitOk : kExitOpError;
    };
  });
}

}  // namespace s3db::cli
