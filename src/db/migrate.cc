// Resource::migrate: rewrites records stored under an older schema version in place, through the
// conditional write of update() (db::RecordWrite, If-Match on the ETag read). One LIST page at a
// time, one pool op per record, a window of them in flight.
#include "s3db/resource.h"

#include "db/record_write.h"
#include "db/records.h"
#include "db/state.h"

#include <deque>
#include <optional>
#include <utility>

namespace s3db {

using nlohmann::json;

namespace {

enum class Outcome : std::uint8_t { kMigrated, kCurrent, kRaced, kGone };

// One record: read it (upgrades applied); when it is stored under an older version, write it back
// starting from that read — a conflict means another writer stored it since, and that write is
// kept. The RecordWrite lives in the op, so the pool's retries resume the same write.
struct MigrateOp {
  std::shared_ptr<Resource::State> rs;
  std::string id;
  db::AttemptBudget budget;
  std::optional<db::RecordWrite> write;
  std::shared_ptr<bool> raced = std::make_shared<bool>(false);

  Result<Outcome> operator()(OpContext& ctx) {
    if (!write) {
      auto cur = db::read_record(*rs, id, ctx);
      if (!cur.ok()) {
        if (cur.status().is_not_found()) return Outcome::kGone;
        return cur.status();
      }
      if (cur->version >= rs->runtime()->def.current_version) return Outcome::kCurrent;
      // Called again only after a conflict, with what the other writer stored: unless it is the
      // document we read, leave it (every writer of this library stores the current version).
      db::Mutation keep = [expected = cur->doc, raced = raced, what = "migrate " + id](json current) -> Result<json> {
        if (current == expected) return current;
        *raced = true;
        return Status::PreconditionFailed(what, "a concurrent writer stored the record since it was read");
      };
      write.emplace(rs, id, std::move(keep), budget);
      write->start_from(db::Base{true, std::move(cur->etag), std::move(cur->stamp)}, std::move(cur->doc));
    }
    auto written = (*write)(ctx);
    // Read-your-writes (as every write does): reads of this record before now are not shared after.
    rs->client().pool().invalidate_dedup(db::data_key(*rs->runtime(), id));
    if (written.ok()) return Outcome::kMigrated;
    if (*raced) return Outcome::kRaced;
    if (written.status().is_not_found()) return Outcome::kGone;
    return written.status();
  }
  Status final_status(Status s) const { return write ? write->final_status(std::move(s)) : s; }
};

}  // namespace

Result<Resource::MigrateResult> Resource::migrate(MigrateOptions options) {
  if (options.page_size < 1 || options.page_size > 1000) {
    return Status::InvalidArgument("migrate", "page_size must be 1..1000");
  }
  S3DB_RETURN_IF_ERROR(state_->check_live());
  Client& c = state_->client();
  const auto rt = state_->runtime();
  const OpOptions op = c.effective(options.op);
  std::size_t window = options.max_in_flight;
  if (window == 0) {
    const int conc = c.pool().stats().concurrency;
    window = static_cast<std::size_t>(conc > 0 ? 2 * conc : 2);
  }
  MigrateResult res;
  res.last_id = options.start_after;
  ListRequest req;
  req.prefix = rt->data_prefix;
  req.max_keys = static_cast<int>(options.page_size);
  if (!options.start_after.empty()) req.start_after = rt->data_prefix + options.start_after;

  struct Pending {
    std::string id;
    Future<Outcome> outcome;
  };
  std::deque<Pending> in_flight;
  const auto settle = [&] {
    Pending p = std::move(in_flight.front());
    in_flight.pop_front();
    auto r = p.outcome.get();
    if (!r.ok()) {
      if (res.failed++ == 0) res.first_error = r.status().with_context("migrate " + rt->def.name + "/" + p.id);
      return;
    }
    switch (*r) {
      case Outcome::kMigrated: ++res.migrated; break;
      case Outcome::kCurrent: ++res.already_current; break;
      case Outcome::kRaced: ++res.raced; break;
      case Outcome::kGone: ++res.gone; break;
    }
  };
  for (;;) {
    auto page = c.list(req, op);
    if (!page.ok()) return page.status().with_context("migrate " + rt->def.name + ": list");
    for (const auto& obj : page->objects) {
      if (in_flight.size() >= window) settle();
      std::string id(db::id_of_key(obj.key));
      auto budget = db::AttemptBudget::of(c.pool(), op);
      auto future = c.pool().submit(MigrateOp{state_, id, budget, std::nullopt}, op);
      in_flight.push_back(Pending{std::move(id), std::move(future)});
    }
    while (!in_flight.empty()) settle();  // the page is settled: its last id is a resume point
    res.scanned += page->objects.size();
    if (!page->objects.empty()) res.last_id = std::string(db::id_of_key(page->objects.back().key));
    if (!page->truncated || page->objects.empty()) {
      res.complete = true;
      if (options.on_page) (void)options.on_page(res);
      return res;
    }
    if (options.on_page && !options.on_page(res)) return res;
    req.start_after = page->objects.back().key;
  }
}

Result<Resource::MigrateResult> Resource::migrate() { return migrate(MigrateOptions{}); }

}  // namespace s3db
