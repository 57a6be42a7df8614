// s3db list RESOURCE [--limit N] [--partition NAME --value field=value ...] [--ids]
// Streams page by page (1,000 per page), so memory stays flat whatever the resource size.
// Text output: one compact JSON document per line (JSON Lines); --json: one JSON array.
#include "cli.h"
#include "session.h"

#include <iostream>

namespace s3db::cli {

void add_list(CLI::App& app, Command& cmd) {
  struct Args {
    std::string resource, partition;
    std::vector<std::string> values;
    std::size_t limit = 0;
    bool ids = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("list", "list documents (JSON Lines; --json: an array)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("--limit", a->limit, "at most N documents (0 = all)");
  sub->add_option("--partition", a->partition, "read one partition (with --value)");
  sub->add_option("--value", a->values, "partition value field=value (repeat for each field)");
  sub->add_flag("--ids", a->ids, "print ids only");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      if (!a->values.empty() && a->partition.empty()) throw UsageError("--value needs --partition");
      nlohmann::json values = parse_assignments(a->values, "--value");
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      std::size_t printed = 0;
      if (g.json) std::cout << '[';
      PageRequest req;
      req.size = a->limit > 0 && a->limit < 1000 ? a->limit : 1000;
      req.partition = a->partition;
      req.values = values;
      for (int guard = 0; guard < 100000000; ++guard) {
        Page page = take(r.page(req));
        for (auto& doc : page.items) {
          if (a->limit > 0 && printed >= a->limit) break;
          const nlohmann::json out = a->ids ? doc.value("id", nlohmann::json()) : doc;
          if (g.json) std::cout << (printed ? "," : "") << out.dump();
          else std::cout << (out.is_string() ? out.get<std::string>() : out.dump()) << '\n';
          ++printed;
        }
        if (page.next_cursor.empty() || (a->limit > 0 && printed >= a->limit)) break;
        req.cursor = std::move(page.next_cursor);
      }
      if (g.json) std::cout << "]\n";
      std::cout.flush();
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
