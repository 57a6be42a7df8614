// s3db export RESOURCE [FILE] [--metrics] [--metrics-listen 127.0.0.1:PORT]
// Writes every document as JSON Lines as a Resource::scan delivers them (one LIST page of ids and a
// window of documents in memory), so memory stays flat whatever the resource size. Without FILE the data goes to stdout
// and nothing else does; with FILE a summary is printed. Progress bar on a terminal, with an ETA
// from a count taken first (only then: it costs one LIST pass).
#include "cli.h"
#include "progress.h"
#include "metrics_server.h"
#include "session.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace s3db::cli {
namespace {

struct Args {
  std::string resource, file;
  bool metrics = false;
  std::string metrics_listen;  // --metrics-listen HOST:PORT (empty = off)
};

int run(const Globals& g, const Args& a) {
  const bool to_stdout = a.file.empty() || a.file == "-";
  Database db = open_database(g);
  const auto metrics_server = listen_metrics(a.metrics_listen, db.client());
  Resource r = open_resource(db, a.resource);
  std::ofstream file;
  if (!to_stdout) {
    file.open(a.file, std::ios::binary | std::ios::trunc);
    if (!file) throw UsageError("cannot write '" + a.file + "'");
  }
  std::ostream& out = to_stdout ? std::cout : file;
  const bool show_bar = stderr_is_tty() && !g.json;
  std::uint64_t total = show_bar ? take(r.count()) : 0;
  ProgressBar bar("export " + a.resource, total, show_bar);

  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t exported = 0;
  ScanOptions scan;
  check(r.scan(std::move(scan), [&](nlohmann::json& doc) {
    out << doc.dump() << '\n';
    ++exported;
    if (exported % 1000 == 0) bar.update(exported, 0, exported);
    return static_cast<bool>(out);
  }));
  if (!out) throw OpError(Status::Internal("export", "write failed (disk full or closed pipe?)"));
  bar.update(exported, 0, exported);
  out.flush();
  if (!out) throw OpError(Status::Internal("export", "write failed"));
  bar.finish();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!to_stdout) {
    nlohmann::json j = {{"resource", a.resource}, {"exported", exported}, {"file", a.file},
                        {"duration_ms", ms}};
    if (a.metrics && g.json)
      j["metrics"] = metrics_json(db.client());
    emit(g, j, fmt::format("exported {} documents from {} to {} in {:.0f} ms", exported, a.resource, a.file, ms));
  }
  if (a.metrics && (to_stdout || !g.json)) {
    // Data owns stdout when exporting to it: metrics go to stderr then.
    if (to_stdout) std::cerr << db.client().prometheus();
    else print_metrics(g, db.client());
  }
  return kExitOk;
}

}  // namespace

void add_export(CLI::App& app, Command& cmd) {
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("export", "write every document as JSON Lines (to FILE or stdout)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("file", a->file, "output FILE.jsonl (default: stdout)");
  sub->add_flag("--metrics", a->metrics, "print the pool's metrics at the end");
  add_metrics_listen_option(sub, a->metrics_listen);
  sub->callback([&cmd, a] { cmd.run = [&cmd, a] { return run(*cmd.globals, *a); }; });
}

}  // namespace s3db::cli
