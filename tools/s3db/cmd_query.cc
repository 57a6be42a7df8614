// s3db query RESOURCE --where EXPR [--where EXPR]... [--limit N]
// Conditions (where.h: field=value, field>=value, field in a,b, field exists, ...) ANDed into one
// Resource::query() filter. The library reads a partition when the conditions fix its fields by
// equality, else scans. A malformed expression is a usage error, found before any I/O.
#include "cli.h"
#include "session.h"
#include "where.h"

#include <iostream>

namespace s3db::cli {

void add_query(CLI::App& app, Command& cmd) {
  struct Args { std::string resource; std::vector<std::string> where; std::size_t limit = 0; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("query", "documents matching every --where condition");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("--where", a->where, "field=value, field!=v, field>v, field>=v, field<v, field<=v, field^=prefix, field in a,b, field not in a,b, field exists, field !exists (repeat; all must match)")->required();
  sub->add_option("--limit", a->limit, "at most N documents (0 = all)");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      auto parsed = parse_where(a->where);
      if (!parsed.ok()) throw UsageError(parsed.status().message());
      nlohmann::json filter = std::move(parsed).value();
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
