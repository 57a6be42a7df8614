// s3db count RESOURCE [--partition NAME --value field=value ...]
#include "cli.h"
#include "session.h"

namespace s3db::cli {

void add_count(CLI::App& app, Command& cmd) {
  struct Args { std::string resource, partition; std::vector<std::string> values; };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("count", "count documents");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("--partition", a->partition, "count one partition (with --value)");
  sub->add_option("--value", a->values, "partition value field=value (repeat for each field)");
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      if (!a->values.empty() && a->partition.empty()) throw UsageError("--value needs --partition");
      ListOptions opts;
      opts.partition = a->partition;
      opts.values = parse_assignments(a->values, "--value");
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      std::size_t n = take(r.count(std::move(opts)));
      emit(g, {{"count", n}}, std::to_string(n));
      return kExitOk;
    };
  });
}

}  // namespace s3db::cli
