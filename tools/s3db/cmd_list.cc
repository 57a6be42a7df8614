// s3db list RESOURCE [--limit N] [--partition NAME --value field=value ...] [--ids] [--metrics]
// A Resource::scan printed as it arrives (print_scan.h): memory stays flat whatever the resource
// size, and --limit N reads N documents.
// Text output: one compact JSON document per line (JSON Lines); --json: one JSON array.
#include "cli.h"
#include "print_scan.h"
#include "session.h"

#include <iostream>

namespace s3db::cli {

void add_list(CLI::App& app, Command& cmd) {
  struct Args {
    std::string resource, partition;
    std::vector<std::string> values;
    std::size_t limit = 0;
    bool ids = false;
    bool metrics = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("list", "list documents (JSON Lines; --json: an array)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("--limit", a->limit, "at most N documents (0 = all)");
  sub->add_option("--partition", a->partition, "read one partition (with --value)");
  sub->add_option("--value", a->values, "partition value field=value (repeat for each field)");
  sub->add_flag("--ids", a->ids, "print ids only");
  sub->add_flag("--metrics", a->metrics, "print the pool's metrics to stderr at the end");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      if (!a->values.empty() && a->partition.empty()) throw UsageError("--value needs --partition");
      nlohmann::json values = parse_assignments(a->values, "--value");
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      ScanOptions scan;
      scan.limit = a->limit;
      scan.partition = a->partition;
      scan.values = std::move(values);
      print_scan(g, r, std::move(scan), a->ids);
      if (a->metrics) std::cerr << db.client().prometheus();  // the data owns stdout
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
