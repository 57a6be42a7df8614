// s3db query RESOURCE --where field=value [...] [--limit N]
// Equality filters on top-level fields; values are JSON when they parse (age=31, active=true),
// strings otherwise. The library uses a matching partition when there is one, else scans.
#include "cli.h"
#include "session.h"

#include <iostream>

namespace s3db::cli {

void add_query(CLI::App& app, Command& cmd) {
  struct Args { std::string resource; std::vector<std::string> where; std::size_t limit = 0; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("query", "documents whose fields equal the given values");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("--where", a->where, "field=value (repeat; all must match)")->required();
  sub->add_option("--limit", a->limit, "at most N documents (0 = all)");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      nlohmann::json filter = parse_assignments(a->where, "--where");
      ListOptions opts;
      opts.limit = a->limit;
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      std::vector<nlohmann::json> docs = take(r.query(filter, std::move(opts)));
      if (g.json) {
        std::cout << nlohmann::json(docs).dump() << '\n';
      } else {
        for (const auto& d : docs) std::cout << d.dump() << '\n';
      }
      std::cout.flush();
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
