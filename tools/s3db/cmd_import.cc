// s3db import RESOURCE FILE.jsonl|- [--metrics]
// Streams JSON Lines: each line is one insert_async; at most 2 × concurrency inserts are in flight
// (the oldest is awaited before the next line is read), so memory stays flat whatever the file
// size. Bad lines and failed inserts are counted (first one reported), not fatal: exit 1 at the end
// when any failed. Progress bar on a terminal (bytes read → percentage and ETA).
#include "cli.h"
#include "progress.h"
#include "session.h"

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace s3db::cli {
namespace {

struct Args { std::string resource, file; bool metrics = false; std::size_t window = 0; };

int run(const Globals& g, const Args& a) {
  std::ifstream file;
  std::istream* in = &std::cin;
  std::uint64_t total_bytes = 0;
  if (a.file != "-") {
    file.open(a.file, std::ios::binary);
    if (!file) throw UsageError("cannot open '" + a.file + "'");
    std::error_code ec;
    total_bytes = std::filesystem::file_size(a.file, ec);
    if (ec) total_bytes = 0;
    in = &file;
  }
  Database db = open_database(g);
  Resource r = open_resource(db, a.resource);
  const std::size_t window =
      a.window > 0 ? a.window : 2 * static_cast<std::size_t>(std::max(1, db.client().pool().options().concurrency));

  struct Pending { std::uint64_t line; Future<nlohmann::json> future; };
  std::deque<Pending> pending;
  std::uint64_t lines = 0, imported = 0, errors = 0, bytes = 0;
  std::string first_error;
  auto fail_line = [&](std::uint64_t line, const std::string& why) {
    ++errors;
    if (first_error.empty()) first_error = fmt::format("line {}: {}", line, why);
  };
  auto settle_oldest = [&] {
    Pending p = std::move(pending.front());
    pending.pop_front();
    auto res = p.future.get();
    if (res.ok()) ++imported;
    else fail_line(p.line, res.status().to_string());
  };

  ProgressBar bar("import " + a.resource, total_bytes, stderr_is_tty() && !g.json);
  const auto t0 = std::chrono::steady_clock::now();
  std::string text;
  while (std::getline(*in, text)) {
    ++lines;
    bytes += text.size() + 1;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) { fail_line(lines, "not valid JSON"); continue; }
    if (!doc.is_object()) { fail_line(lines, "not a JSON object"); continue; }
    while (pending.size() >= window) settle_oldest();
    pending.push_back({lines, r.insert_async(std::move(doc))});
    bar.update(imported, errors, bytes);
  }
  while (!pending.empty()) settle_oldest();
  bar.update(imported, errors, bytes);
  bar.finish();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json j = {{"resource", a.resource}, {"imported", imported}, {"errors", errors},
                      {"lines", lines}, {"duration_ms", ms},
                      {"ops_per_sec", ms > 0 ? static_cast<double>(imported) / (ms / 1e3) : 0.0}};
  if (!first_error.empty()) j["first_error"] = first_error;
  if (a.metrics && g.json)
    j["metrics"] = metrics_json(db.client().pool().metrics(), db.client().pool().stats());
  emit(g, j, fmt::format("imported {} documents into {} in {:.0f} ms ({:.0f}/s), {} errors", imported,
                         a.resource, ms, j["ops_per_sec"].get<double>(), errors));
  if (a.metrics && !g.json) print_metrics(g, db.client());
  if (errors > 0) {
    std::cerr << fmt::format("s3db: import: {} of {} lines failed (first: {})\n", errors, lines, first_error);
    return kExitOpError;
  }
  return kExitOk;
}

}  // namespace

void add_import(CLI::App& app, Command& cmd) {
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("import", "insert every line of a JSON Lines file (or - for stdin)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("file", a->file, "FILE.jsonl, or - for stdin")->required();
  sub->add_flag("--metrics", a->metrics, "print the pool's metrics at the end");
  sub->add_option("--window", a->window, "inserts in flight at most (default 2 × concurrency)");
  sub->callback([&cmd, a] { cmd.run = [&cmd, a] { return run(*cmd.globals, *a); }; });
}

}  // namespace s3db::cli
