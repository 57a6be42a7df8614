// s3db — command-line face of the library. Global options, command dispatch and the exit-code
// convention live here; each command is in its own cmd_*.cc file.
#include "cli.h"

#include <s3db/connection.h>

#include <charconv>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

using namespace s3db::cli;

namespace {

int fail(int code, std::string msg) {
  print_error(std::move(msg));
  return code;
}

void setup_logging(int verbose) {
  // Logs go to stderr so that stdout stays machine-readable (JSON, JSONL export).
  auto logger = spdlog::stderr_color_mt("s3db");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose >= 2 ? spdlog::level::trace
                    : verbose == 1 ? spdlog::level::debug
                                   : spdlog::level::warn);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"s3db — a document database on S3-compatible object stores"};
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted after the command name too
  Globals g;
  if (const char* env = std::getenv("S3DB_URL"); env && *env) g.url = env;
  // --help shows the default (S3DB_URL's value) redacted: it may carry KEY:SECRET@.
  app.add_option("--url", g.url,
                 "connection string: memory://, file:///path, s3://bucket/prefix, http://host:port/bucket "
                 "(env S3DB_URL; credentials from AWS_* like awscli)")
      ->default_str(s3db::redact_uri(g.url));
  app.add_option_function<std::string>(
         "--concurrency",
         [&g](const std::string& v) {
           g.concurrency = v == "auto" ? s3db::ConnectionOptions::kAutoConcurrency : std::stoi(v);
         },
         "pool concurrency: N (1-100000) or auto (self-tuning; default for s3:// and http(s)://, "
         "otherwise 50; bench: 50)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            int n = 0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            const bool number = ec == std::errc() && end == v.data() + v.size() && n >= 1 && n <= 100000;
            return v == "auto" || number ? std::string() : "must be auto or an integer in 1..100000";
          },
          "N|auto"));
  if (const char* env = std::getenv("S3DB_PASSPHRASE"); env && *env) g.passphrase = env;
  const char* redis_env = std::getenv("S3DB_REDIS_URL");
  if (redis_env && *redis_env) g.redis = redis_env;
  app.add_option("--redis", g.redis,
                 "share limits with every s3db process naming this Redis: "
                 "redis://[user:password@]host[:port][/db] or unix:///path (env S3DB_REDIS_URL); "
                 "with --global-concurrency and/or --rate-put/--rate-get")
      ->default_str(redis_env && *redis_env ? "$S3DB_REDIS_URL" : "");  // never the URL: it may hold a password
  app.add_option("--global-concurrency", g.global_concurrency,
                 "with --redis: operations at once across every process sharing the limit")
      ->check(CLI::Range(1, 100000));
  app.add_option("--rate-put", g.rate_put,
                 "write requests/s (PUT, COPY, DELETE) across every process sharing --redis, "
                 "or for this process without it")
      ->check(CLI::Range(0.001, 1e9));
  app.add_option("--rate-get", g.rate_get,
                 "read requests/s (GET, HEAD, LIST), likewise")
      ->check(CLI::Range(0.001, 1e9));
  app.add_flag("--json", g.json, "machine-readable output: one JSON value on stdout");
  app.add_flag("-v,--verbose", g.verbose, "log to stderr (-v debug, -vv trace)");

  Command cmd;
  cmd.globals = &g;
  add_create_resource(app, cmd);
  add_resources(app, cmd);
  add_insert(app, cmd);
  add_get(app, cmd);
  add_update(app, cmd);
  add_delete(app, cmd);
  add_list(app, cmd);
  add_count(app, cmd);
  add_query(app, cmd);
  add_import(app, cmd);
  add_export(app, cmd);
  add_metrics(app, cmd);
  add_bench(app, cmd);
  add_drop_resource(app, cmd);
  add_truncate(app, cmd);
  add_migrate(app, cmd);
  add_content(app, cmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // prints help on stdout, returns 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kExitUsage, std::string(e.what()) + " (see s3db --help)");
  }
  setup_logging(g.verbose);
  try {
    return cmd.run ? cmd.run() : fail(kExitUsage, "no command given (see s3db --help)");
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const OpError& e) {
    return fail(kExitOpError, e.what());
  } catch (const std::exception& e) {
    return fail(kExitOpError, e.what());
  }
}
