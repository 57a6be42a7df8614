// s3db query RESOURCE --where EXPR [--where EXPR]... [--limit N] [--metrics]
// Conditions (where.h: field=value, field>=value, field in a,b, field exists, ...) ANDed into one
// Resource::query() filter. The library reads a partition when the conditions fix its fields by
// equality, else scans; documents are printed as they arrive (print_scan.h) and --limit N stops
// the reads once N matched. A malformed expression is a usage error, found before any I/O.
#include "cli.h"
#include "print_scan.h"
#include "session.h"
#include "where.h"

#include <iostream>

namespace s3db::cli {

void add_query(CLI::App& app, Command& cmd) {
  struct Args {
    std::string resource;
    std::vector<std::string> where;
    std::size_t limit = 0;
    bool metrics = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("query", "documents matching every --where condition");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("--where", a->where, "field=value, field!=v, field>v, field>=v, field<v, field<=v, field^=prefix, field in a,b, field not in a,b, field exists, field !exists (repeat; all must match)")->required();
  sub->add_option("--limit", a->limit, "at most N documents (0 = all)");
  sub->add_flag("--metrics", a->metrics, "print the pool's metrics to stderr at the end");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      auto parsed = parse_where(a->where);
      if (!parsed.ok()) throw UsageError(parsed.status().message());
      nlohmann::json filter = std::move(parsed).value();
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      ScanOptions scan;
      scan.filter = std::move(filter);
      scan.limit = a->limit;
      print_scan(g, r, std::move(scan), false);
      if (a->metrics) std::cerr << db.client().prometheus();  // the data owns stdout
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
