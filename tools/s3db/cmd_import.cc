// s3db import RESOURCE FILE.jsonl|- [--on-conflict fail|skip|replace] [--errors FILE]
//              [--from-line N] [--max-line-bytes N] [--window N] [--metrics]
//              [--metrics-listen 127.0.0.1:PORT] [create-resource's --schema/--attr/...]
// Streams JSON Lines: each line is one restore_json_async (an insert that keeps
// "createdAt"/"updatedAt" as given, so export → import round-trips them; the line is read and
// encoded in one pass, without a json document). At most --window writes are in flight and their
// outcomes are taken in line order, so memory stays flat whatever the file size and "every line
// up to N is done" (stored, skipped, or reported failed) always has a simple N: the last line
// taken. Failed lines are named one by one (ImportFailures), not fatal: exit 1 at the end.
// A read error, or SIGINT/SIGTERM (StopSignals), ends reading: what is in flight is drained, N is
// printed for --from-line N+1, and the exit code is 1, or 128 + the signal.
#include "cli.h"
#include "import_failures.h"
#include "input_file.h"
#include "line_reader.h"
#include "metrics_server.h"
#include "progress.h"
#include "session.h"
#include "stop_signals.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>

namespace s3db::cli {
namespace {

constexpr std::size_t kDefaultMaxLineBytes = 16 * 1024 * 1024;

struct Args {
  std::string resource, file, errors_file, on_conflict = "fail";
  bool metrics = false;
  std::string metrics_listen;  // --metrics-listen HOST:PORT (empty = off)
  std::size_t window = 0, max_line_bytes = kDefaultMaxLineBytes;
  std::uint64_t from_line = 1;
  DefinitionArgs def;  // given: create the resource first (or a new schema version), as create-resource
};

// Lines between submission and outcome. Outcomes are taken oldest first, which is what makes
// "every line up to the last one taken is done" true.
class Importer {
 public:
  Importer(Resource resource, const Args& a, ImportFailures& failures, std::size_t window)
      : resource_(std::move(resource)), failures_(failures), window_(window),
        if_exists_(a.on_conflict == "replace" ? IfExists::kReplace : IfExists::kFail),
        skip_existing_(a.on_conflict == "skip"), keep_text_(!a.errors_file.empty()) {}

  // The line goes to the store as text: Resource::restore_json reads, checks and encodes it in one
  // pass (no json document per line), and names what is wrong with it (not JSON, not an object,
  // each failing field).
  void submit(std::uint64_t line, std::string_view text) {
    make_room();
    pending_.push_back({line, resource_.restore_json_async(std::string(text), if_exists_), {},
                        keep_text_ ? std::string(text) : std::string(), 0});
  }

  void fail(std::uint64_t line, Status why, std::string_view text, std::uint64_t too_long_bytes = 0) {
    make_room();
    pending_.push_back({line, {}, std::move(why), keep_text_ ? std::string(text) : std::string(),
                        too_long_bytes});
  }

  void drain() {
    while (!pending_.empty()) settle_oldest();
  }

  std::uint64_t imported() const noexcept { return imported_; }
  std::uint64_t skipped() const noexcept { return skipped_; }

 private:
  struct Pending {
    std::uint64_t line;
    Future<std::string> future;  // the id; not valid: the line failed before it was submitted
    Status failed;
    std::string text;               // kept only for --errors
    std::uint64_t too_long_bytes;
  };

  void make_room() {
    while (pending_.size() >= window_) settle_oldest();
  }

  void settle_oldest() {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    Status s = std::move(p.failed);
    if (p.future.valid()) {
      auto r = p.future.get();
      if (!r.ok()) s = r.status();
    }
    if (s.ok()) ++imported_;
    else if (skip_existing_ && s.is_already_exists()) ++skipped_;
    else failures_.add(p.line, s, p.text, p.too_long_bytes);
  }

  Resource resource_;
  ImportFailures& failures_;
  std::size_t window_;
  IfExists if_exists_;
  bool skip_existing_, keep_text_;
  std::deque<Pending> pending_;
  std::uint64_t imported_ = 0, skipped_ = 0;
};

// A batch job waits out an outage of the store instead of failing every remaining line: when the
// circuit breaker is on (the default for s3:// and http(s):// stores) an op it refuses waits,
// without a slot, until the circuit half-opens, and probes every 10 s find the store back (the
// library's 60 s suits interactive callers, who fail fast instead). The user hears about every
// transition on stderr; Ctrl-C twice still ends the process at once.
DatabaseOptions import_database_options() {
  DatabaseOptions o;
  o.client.pool.breaker.wait_when_open = true;
  o.client.pool.breaker.open_timeout = std::chrono::seconds(10);
  return o;
}

Subscription report_breaker(OperationPool& pool) {
  return pool.on(PoolEvent::kBreakerChanged, [](const EventInfo& e) {
    std::string line;
    if (e.breaker_to == BreakerState::kOpen) {
      const double in_s = std::chrono::duration<double>(e.open_until - SteadyClock::now()).count();
      line = fmt::format("s3db: import: the store keeps failing (circuit open): the next lines wait and "
                         "are sent again when it half-opens in {:.0f} s\n", std::max(0.0, in_s));
    } else if (e.breaker_to == BreakerState::kHalfOpen) {
      line = "s3db: import: probing the store (circuit half-open)\n";
    } else {
      line = "s3db: import: the store answers again (circuit closed): going on\n";
    }
    std::fputs(line.c_str(), stderr);  // one call per line: lines from pool threads do not mix
  });
}

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r") == std::string_view::npos; }

int run(const Globals& g, const Args& a) {
  InputFile input = InputFile::open(a.file);
  if (!a.errors_file.empty() && input.is_same_file(a.errors_file))
    throw UsageError("--errors '" + a.errors_file + "' is the input file: it would be overwritten");
  ProgressBar bar("import " + a.resource, input.size(), stderr_is_tty() && !g.json);
  ImportFailures failures(a.errors_file, bar);
  Database db = open_database(g, g.url, import_database_options());
  const Subscription breaker_notes = report_breaker(db.client().pool());
  const auto metrics_server = listen_metrics(a.metrics_listen, db.client());
  Resource resource = a.def.given() ? take(db.create_resource(resource_config(a.resource, a.def)))
                                    : open_resource(db, a.resource);
  const std::size_t window =
      a.window > 0 ? a.window : 2 * static_cast<std::size_t>(std::max(1, db.client().pool().options().concurrency));
  Importer importer(resource, a, failures, window);
  StopSignals stop;  // from here on, a Ctrl-C drains what was submitted before the process ends
  LineReader reader([&](char* buf, std::size_t n) { return input.read(buf, n, stop.fd()); },
                    a.max_line_bytes);

  const auto t0 = std::chrono::steady_clock::now();
  int read_error = 0;
  bool reached_end = false;
  for (;;) {
    LineReader::Line line = reader.next();
    if (line.kind == LineReader::Kind::kEnd) {
      reached_end = true;
      break;
    }
    if (line.kind == LineReader::Kind::kStopped) break;
    if (line.kind == LineReader::Kind::kError) {
      read_error = line.error;
      break;
    }
    if (line.number >= a.from_line) {
      if (line.kind == LineReader::Kind::kTooLong) {
        importer.fail(line.number,
                      Status::InvalidArgument("line too long",
                                              fmt::format("{} bytes, more than --max-line-bytes {}; skipped "
                                                          "without reading it whole",
                                                          line.length, a.max_line_bytes)),
                      {}, line.length);
      } else if (!blank(line.text)) {
        importer.submit(line.number, line.text);
      }
    }
    bar.update(importer.imported(), failures.count(), reader.consumed());
    if (stop.requested()) break;
  }
  importer.drain();  // nothing submitted is abandoned
  bar.update(importer.imported(), failures.count(), reader.consumed());
  bar.finish();
  const Status errors_file = failures.close();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  const std::uint64_t last = reader.number();
  const std::uint64_t lines = last >= a.from_line ? last - a.from_line + 1 : 0;
  const double rate = ms > 0 ? static_cast<double>(importer.imported()) / (ms / 1e3) : 0.0;
  nlohmann::json j = {{"resource", a.resource}, {"imported", importer.imported()},
                      {"skipped", importer.skipped()}, {"errors", failures.count()},
                      {"lines", lines}, {"last_line", last}, {"duration_ms", ms}, {"ops_per_sec", rate}};
  if (failures.count() > 0) j["failed"] = failures.listed();
  // A signal that came after the end of input stopped nothing: the import is complete.
  const int interrupted = reached_end ? 0 : stop.signal();
  if (interrupted != 0) j["interrupted"] = signal_name(interrupted);
  if (read_error != 0) j["read_error"] = std::strerror(read_error);
  if (interrupted != 0 || read_error != 0) j["resume_from_line"] = last + 1;
  if (a.metrics && g.json)
    j["metrics"] = metrics_json(db.client());
  std::string text = fmt::format("imported {} documents into {} in {:.0f} ms ({:.0f}/s)", importer.imported(),
                                 a.resource, ms, rate);
  if (importer.skipped() > 0) text += fmt::format(", {} skipped (already there)", importer.skipped());
  text += fmt::format(", {} errors; every line up to {} is done", failures.count(), last);
  emit(g, j, text);
  if (a.metrics && !g.json) print_metrics(g, db.client());

  if (failures.count() > 0) print_error(failures.summary(lines));
  if (!errors_file.ok()) print_error(errors_file.to_string());
  const std::string resume = fmt::format(
      "every line up to {} is stored, skipped or reported failed; resume with --from-line {}", last, last + 1);
  if (interrupted != 0) {
    print_error(fmt::format("import interrupted by {}: {}", signal_name(interrupted), resume));
    return exit_code_for_signal(interrupted);
  }
  if (read_error != 0) {
    print_error(fmt::format("import: read error on {} after line {}: {}; {}", input.name(), last,
                            std::strerror(read_error), resume));
    return kExitOpError;
  }
  return failures.count() > 0 || !errors_file.ok() ? kExitOpError : kExitOk;
}

}  // namespace

void add_import(CLI::App& app, Command& cmd) {
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("import", "store every line of a JSON Lines file (or - for stdin)");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("file", a->file, "FILE.jsonl, or - for stdin")->required();
  sub->add_option("--on-conflict", a->on_conflict,
                  "a document whose id exists: fail (report it), skip (count it), replace (overwrite)")
      ->check(CLI::IsMember({"fail", "skip", "replace"}))
      ->capture_default_str();
  sub->add_option("--errors", a->errors_file,
                  "write every failed line to FILE as JSON Lines: line, code, error, text");
  sub->add_option("--from-line", a->from_line, "skip the lines before N (resume an interrupted import)")
      ->check(CLI::Range(std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max()));
  sub->add_option("--max-line-bytes", a->max_line_bytes,
                  "a longer line is a failed line, skipped without reading it whole")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))
      ->capture_default_str();
  sub->add_flag("--metrics", a->metrics, "print the pool's metrics at the end");
  add_metrics_listen_option(sub, a->metrics_listen);
  sub->add_option("--window", a->window, "writes in flight at most (default 2 × concurrency)");
  // create-resource's options: the resource is created (or given a new schema version) first, in
  // this process — what an import into mem:// needs.
  add_definition_options(sub, a->def);
  sub->callback([&cmd, a] { cmd.run = [&cmd, a] { return run(*cmd.globals, *a); }; });
}

}  // namespace s3db::cli
