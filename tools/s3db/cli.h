// tools/s3db/cli.h — conventions shared by every s3db command.
//
// - Exit codes: 0 success, 1 operation error (a non-OK Status from the library, an I/O error
//   while reading input), 2 usage error (bad flags, bad JSON argument, malformed URL, an input
//   path that is a directory or cannot be opened, a malformed schema file), 128 + signal number
//   when a long command (import) stopped early on SIGINT (130) or SIGTERM (143) after draining
//   its work. main() maps the exceptions below to 1 and 2.
// - Errors are one line each on stderr: "s3db: <what went wrong>" (print_error). A command that
//   reports several failed items (import, delete) prints one such line per item. Nothing else
//   goes to stderr except -v logging and the progress bar (only when stderr is a terminal).
// - --json: every command prints exactly one JSON value on stdout (JSON Lines for export to stdout
//   is the data itself, not a report).
// - Thread safety: the CLI is single-threaded apart from what the library and bench do inside.
#pragma once

#include <s3db/resource.h>
#include <s3db/status.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace s3db::cli {

enum ExitCode : int { kExitOk = 0, kExitOpError = 1, kExitUsage = 2 };
// Exit code of a command stopped by `signo` after it drained its work (shell convention).
constexpr int exit_code_for_signal(int signo) noexcept { return 128 + signo; }

// Thrown for misuse detected after CLI11 parsing (bad JSON argument, bad --where, bad URL...).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown for a failed library operation; carries the Status for --json error output.
class OpError : public std::runtime_error {
 public:
  explicit OpError(Status s) : std::runtime_error(s.to_string()), status_(std::move(s)) {}
  const Status& status() const noexcept { return status_; }

 private:
  Status status_;
};

// Global options, filled by CLI11 before any command runs.
struct Globals {
  std::string url = "memory://";
  // --concurrency N|auto (auto = ConnectionOptions::kAutoConcurrency); wins over the URL's
  // concurrency=. Unset = the URL's, or the store's default (auto for s3/http(s), 50 otherwise).
  std::optional<int> concurrency;
  // --redis URL (env S3DB_REDIS_URL) and --global-concurrency N: a limit shared by every s3db
  // process naming the same Redis (ClientOptions::shared). The URL may hold a password: never shown.
  // --rate-put / --rate-get R: requests/s of each kind, for every process sharing --redis, or
  // for this process alone without it.
  std::string redis;
  int global_concurrency = 0;
  double rate_put = 0, rate_get = 0;
  // env S3DB_PASSPHRASE (DatabaseOptions::passphrase, for secret attributes): an environment
  // variable only, never an option, so that it is not in the process list; never shown.
  std::string passphrase;
  bool json = false;
  int verbose = 0;
};

// Each command registers itself on `app` and, when selected, stores its body in `run`.
struct Command {
  Globals* globals = nullptr;
  std::function<int()> run;
};

// Throws OpError when `s` is not OK (InvalidArgument from URL parsing is a usage error).
void check(const Status& s);
template <class T>
T take(Result<T>&& r) {
  if (!r.ok()) check(r.status());
  return std::move(r).value();
}

// Parses a JSON document given on the command line ("-" reads stdin); UsageError when malformed.
nlohmann::json parse_json_arg(const std::string& text, const char* what);
// nlohmann's parse error (or number overflow) without its "[json.exception.parse_error.101]"
// prefix: one line that names the position, e.g. "parse error at line 1, column 2: syntax error ...".
std::string parse_error_text(const nlohmann::json::exception& e);

// Writes "s3db: <msg>" on stderr as one line (newlines in `msg` folded to spaces).
void print_error(std::string msg);

// Prints `j` (with --json) or `text` (otherwise) to stdout followed by a newline.
void emit(const Globals& g, const nlohmann::json& j, const std::string& text);

// A resource definition given on the command line (create-resource; import, which can create the
// resource it fills — the way to import into mem://). cmd_create_resource.cc.
struct DefinitionArgs {
  std::string schema_file, behavior;
  std::vector<std::string> attrs, partitions;
  bool timestamps = false;
  bool given() const;  // any of the options was given
};
void add_definition_options(CLI::App* sub, DefinitionArgs& d);
// The ResourceConfig they describe; UsageError (naming the file, the option, the field) when bad.
ResourceConfig resource_config(const std::string& name, const DefinitionArgs& d);

// Every command's registration function (one per cmd_*.cc file).
void add_create_resource(CLI::App& app, Command& cmd);
void add_resources(CLI::App& app, Command& cmd);
void add_insert(CLI::App& app, Command& cmd);
void add_get(CLI::App& app, Command& cmd);
void add_update(CLI::App& app, Command& cmd);
void add_delete(CLI::App& app, Command& cmd);
void add_list(CLI::App& app, Command& cmd);
void add_count(CLI::App& app, Command& cmd);
void add_query(CLI::App& app, Command& cmd);
void add_import(CLI::App& app, Command& cmd);
void add_export(CLI::App& app, Command& cmd);
void add_metrics(CLI::App& app, Command& cmd);
void add_bench(CLI::App& app, Command& cmd);
void add_drop_resource(CLI::App& app, Command& cmd);  // cmd_admin.cc
void add_truncate(CLI::App& app, Command& cmd);       // cmd_admin.cc
void add_migrate(CLI::App& app, Command& cmd);        // cmd_admin.cc
void add_content(CLI::App& app, Command& cmd);

}  // namespace s3db::cli
