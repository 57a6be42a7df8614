// s3db metrics [--format prometheus|json]
// Prints the pool's metrics after opening the database (one catalog read). Each CLI invocation is
// a new process with a new pool, so this shows that one command's work; for the metrics of a real
// workload use --metrics on import, export or bench, which print them at the end.
#include "cli.h"
#include "session.h"

namespace s3db::cli {

void add_metrics(CLI::App& app, Command& cmd) {
  auto format = std::make_shared<std::string>("prometheus");
  auto* sub = app.add_subcommand("metrics", "print the pool's metrics (Prometheus text, or JSON)");
  sub->add_option("--format", *format, "prometheus | json (--json implies json)")
      ->check(CLI::IsMember({"prometheus", "json"}));
  sub->callback([&cmd, format] {
    cmd.run = [&cmd, format] {
      Globals g = *cmd.globals;
      if (*format == "json") g.json = true;
      Database db = open_database(g);
      print_metrics(g, db.client());
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
