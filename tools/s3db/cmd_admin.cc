// s3db drop-resource NAME --yes     every key of the resource, then its catalog entry
// s3db truncate NAME --yes          every key of the resource; the resource stays, empty
// s3db migrate NAME [--start-after ID] [--page-size N]
//                                   rewrites records stored under an older schema version
//
// drop-resource and truncate cannot be undone: without --yes they refuse (exit 2, nothing read
// or written), whether or not stdin is a terminal — a script that forgot the flag fails loudly
// instead of prompting or deleting. Keys the store refuses to remove: one stderr line with the
// first error, exit 1 (drop-resource then keeps the catalog entry).
// migrate has no upgrade functions (they are C++ code: Resource::set_upgrade): it re-encodes each
// old record as decoded under the current schema version, the current schema's defaults applied.
// Per-record failures are counted (first one on stderr, exit 1); the run goes on. On SIGINT or
// SIGTERM it finishes the page in flight, prints the resume point ("--start-after ID") and exits
// 128 + signal.
// Progress (keys removed, records scanned) is drawn on stderr only when it is a terminal.
#include "cli.h"
#include "progress.h"
#include "session.h"
#include "stop_signals.h"

#include <fmt/format.h>

namespace s3db::cli {
namespace {

struct Args {
  std::string resource;
  bool yes = false;
};

void require_yes(const Args& a, const char* what) {
  if (!a.yes) {
    throw UsageError(fmt::format("refusing to {} '{}' without --yes (it deletes every record and cannot be undone)",
                                 what, a.resource));
  }
}

CLI::App* add_destructive(CLI::App& app, const char* name, const char* help, std::shared_ptr<Args> a) {
  auto* sub = app.add_subcommand(name, help);
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_flag("-y,--yes", a->yes, "confirm: without it the command refuses (exit 2)");
  return sub;
}

// The progress bar's callback for remove_all / drop_resource.
Resource::RemoveAllOptions with_progress(ProgressBar& bar) {
  Resource::RemoveAllOptions o;
  o.on_progress = [&bar](std::size_t deleted) { bar.update(deleted, 0, 0); };
  return o;
}

// Exit 1 with the first refused key's error when remove_all left keys behind.
int report_removed(const Globals& g, const std::string& verb, const std::string& resource,
                   const Resource::RemoveAllResult& r) {
  nlohmann::json j = {{"resource", resource}, {"deleted", r.deleted}, {"failed", r.failed}, {"survivors", r.survivors}};
  std::string text = fmt::format("{} {}: deleted {} keys", verb, resource, r.deleted);
  if (r.survivors > 0) text += fmt::format(", {} records stored meanwhile kept", r.survivors);
  if (r.failed > 0) {
    j["first_error"] = r.first_error.to_string();
    text += fmt::format(", {} could not be removed", r.failed);
  }
  emit(g, j, text);
  if (r.failed == 0) return kExitOk;
  print_error(r.first_error.to_string());
  return kExitOpError;
}

}  // namespace

void add_drop_resource(CLI::App& app, Command& cmd) {
  auto a = std::make_shared<Args>();
  auto* sub = add_destructive(app, "drop-resource", "delete a resource: every record and its catalog entry (--yes)", a);
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      require_yes(*a, "drop resource");
      Database db = open_database(g);
      ProgressBar bar("drop " + a->resource, 0, stderr_is_tty() && !g.json);
      std::size_t deleted = 0;
      Resource::RemoveAllOptions o;
      o.on_progress = [&](std::size_t n) {
        deleted = n;
        bar.update(n, 0, 0);
      };
      Status s = db.drop_resource(a->resource, o);
      bar.finish();
      check(s);
      emit(g, {{"dropped", a->resource}, {"deleted", deleted}},
           fmt::format("dropped {}: deleted {} keys", a->resource, deleted));
      return kExitOk;
    };
  });
}

void add_truncate(CLI::App& app, Command& cmd) {
  auto a = std::make_shared<Args>();
  auto* sub = add_destructive(app, "truncate", "delete every record of a resource, keeping the resource (--yes)", a);
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      require_yes(*a, "truncate");
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      ProgressBar bar("truncate " + a->resource, 0, stderr_is_tty() && !g.json);
      auto removed = r.remove_all(with_progress(bar));
      bar.finish();
      return report_removed(g, "truncated", a->resource, take(std::move(removed)));
    };
  });
}

void add_migrate(CLI::App& app, Command& cmd) {
  struct MigrateArgs {
    std::string resource, start_after;
    std::size_t page_size = 1000;
  };
  auto a = std::make_shared<MigrateArgs>();
  auto* sub = app.add_subcommand("migrate", "rewrite records stored under an older schema version in the current one");
  sub->add_option("resource", a->resource, "resource name")->required();
  sub->add_option("--start-after", a->start_after, "resume after this id (printed by an interrupted run)");
  sub->add_option("--page-size", a->page_size, "ids per LIST page")->check(CLI::Range(1, 1000));
  sub->callback([&cmd, a] {
    cmd.run = [&cmd, a] {
      const Globals& g = *cmd.globals;
      Database db = open_database(g);
      Resource r = open_resource(db, a->resource);
      ProgressBar bar("migrate " + a->resource, 0, stderr_is_tty() && !g.json);
      Resource::MigrateOptions o;
      o.start_after = a->start_after;
      o.page_size = a->page_size;
      StopSignals stop;  // from here on, a Ctrl-C ends the run after the page in flight
      o.on_page = [&](const Resource::MigrateResult& so_far) {
        bar.update(so_far.scanned, so_far.failed, 0);
        return !stop.requested();
      };
      auto result = r.migrate(o);
      bar.finish();
      const Resource::MigrateResult res = take(std::move(result));
      nlohmann::json j = {{"resource", a->resource},         {"scanned", res.scanned},
                          {"migrated", res.migrated},         {"already_current", res.already_current},
                          {"raced", res.raced},               {"gone", res.gone},
                          {"failed", res.failed},             {"last_id", res.last_id},
                          {"complete", res.complete}};
      std::string text = fmt::format("migrated {}, already current {}, failed {} (scanned {})", res.migrated,
                                     res.already_current, res.failed, res.scanned);
      if (res.raced > 0) text += fmt::format(", {} changed meanwhile by another writer", res.raced);
      if (!res.complete) text += fmt::format("; stopped: resume with --start-after {}", res.last_id);
      if (!res.first_error.ok()) j["first_error"] = res.first_error.to_string();
      emit(g, j, text);
      if (!res.first_error.ok()) print_error(res.first_error.to_string());
      if (!res.complete) return exit_code_for_signal(stop.signal());
      return res.failed == 0 ? int{kExitOk} : int{kExitOpError};
    };
  });
}

}  // namespace s3db::cli
