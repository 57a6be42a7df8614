// s3db update RESOURCE ID JSON|- [--patch]   — shallow merge of top-level fields (default), or an
// RFC 7386 merge patch (--patch: nested merge, null removes). Conflicts are retried by the library.
#include "cli.h"
#include "session.h"

namespace s3db::cli {

void add_update(CLI::App& app, Command& cmd) {
  struct Args { std::string resource, id, changes; bool patch = false; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("update", "update one document (merge of top-level fields)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("id", a->id, "document id")->required();
  sub->add_option("changes", a->changes, "JSON object of changes, or - for stdin")->required();
  sub->add_flag("--patch", a->patch, "apply as an RFC 7386 JSON merge patch");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      nlohmann::json changes = parse_json_arg(a->changes, "changes");
      if (!changes.is_object()) throw UsageError("changes must be a JSON object");
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      nlohmann::json doc = a->patch ? take(r.patch(a->id, std::move(changes)))
                                    : take(r.update(a->id, std::move(changes)));
      emit(g, doc, doc.dump(2));
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
