// Resource: reads of many records — scan (the streaming reader) and what is built on it (list,
// count, query), list_ids and page. Ids come from LIST, one page (one pool op) at a time;
// documents from one GET op each, a bounded window ahead of the caller.
#include "s3db/resource.h"

#include "db/filter.h"
#include "db/records.h"
#include "db/state.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>

namespace s3db {

using nlohmann::json;

namespace {

// Where a read looks: the data prefix, or a partition's prefix (whose references must be checked
// against the records they point to).
struct Scope {
  std::string prefix;
  bool partition = false;
};

Result<Scope> scope_of(const db::Runtime& rt, const std::string& partition, const json& values) {
  if (partition.empty()) return Scope{rt.data_prefix, false};
  auto prefix = db::partition_prefix(rt, partition, values);
  if (!prefix.ok()) return prefix.status();
  return Scope{std::move(prefix).value(), true};
}

// The first partition whose every field the filter fixes to a scalar, with those values; reading
// it instead of the whole resource returns the same records.
void pick_partition(const db::Runtime& rt, const db::Filter& f, ScanOptions& o) {
  for (const auto& p : rt.def.partitions) {
    json values = json::object();
    for (const auto& field : p.fields) {
      const json* v = f.fixed(field);
      if (!v) break;
      values[field] = *v;
    }
    if (values.size() != p.fields.size()) continue;
    o.partition = p.name;
    o.values = std::move(values);
    return;
  }
}

// The window of one scan: GETs submitted in key order, delivered oldest first. `take(doc)` sees
// each document that passes the partition check and the filter and returns false to stop.
class Scanner {
 public:
  Scanner(Resource& r, Client& c, const db::Runtime& rt, const Scope& scope, const db::Filter* filter,
          const ScanOptions& o, const std::function<bool(json&)>& take)
      : r_(r), rt_(rt), scope_(scope), filter_(filter), o_(o), take_(take),
        window_(o.window > 0 ? o.window : db::default_window(c)) {}

  // LIST visitor: one key. False once the scan is over (stopped, limit reached, or failed).
  bool add(std::string_view key) {
    if (done_) return false;
    while (in_flight_.size() >= room()) {
      settle();
      if (done_) return false;
    }
    in_flight_.push_back(Pending{std::string(db::id_of_key(key)), {}});
    in_flight_.back().future = r_.get_async(in_flight_.back().id, o_.op);
    return true;
  }

  Status finish() {
    while (!done_ && !in_flight_.empty()) settle();
    // After a stop, the reads already sent are waited for and discarded: an op left running
    // could hold the last reference to its Client once the caller lets go of its handles, and a
    // Client must never be destroyed on one of its own pool's threads.
    for (auto& p : in_flight_) p.future.wait();
    in_flight_.clear();
    return error_;
  }

 private:
  struct Pending {
    std::string id;
    Future<json> future;
  };

  // GETs allowed in flight: the window, and with a limit no more than the records still wanted
  // (so a limited scan whose records all match reads exactly `limit`).
  std::size_t room() const {
    if (o_.limit == 0) return window_;
    return std::max<std::size_t>(1, std::min(window_, o_.limit - delivered_));
  }

  void settle() {
    Pending p = std::move(in_flight_.front());
    in_flight_.pop_front();
    auto r = p.future.get();
    if (!r.ok()) {
      if (r.status().is_not_found()) return;  // deleted since the LIST
      error_ = r.status();
      done_ = true;
      return;
    }
    json& doc = *r;
    if (scope_.partition && !db::in_partition(rt_, doc, p.id, scope_.prefix)) return;  // stale reference
    if (filter_ && !filter_->matches(doc)) return;
    ++delivered_;
    if (!take_(doc) || (o_.limit != 0 && delivered_ >= o_.limit)) done_ = true;
  }

  Resource& r_;
  const db::Runtime& rt_;
  const Scope& scope_;
  const db::Filter* filter_;
  const ScanOptions& o_;
  const std::function<bool(json&)>& take_;
  const std::size_t window_;
  std::deque<Pending> in_flight_;
  std::size_t delivered_ = 0;
  bool done_ = false;
  Status error_;
};

// Fetches documents for `ids` with backpressure; skips ids whose record is gone or, in a partition,
// no longer has the partition's values; fails on any other error.
Result<std::vector<json>> fetch(Resource& r, const db::Runtime& rt, const std::vector<std::string>& ids,
                                const Scope& scope, const OpOptions& op) {
  std::vector<json> docs;
  docs.reserve(ids.size());
  BulkOptions o;
  o.op = op;
  Status first_error;
  o.on_item = [&](std::size_t i, ItemResult& item) {
    if (item.status.ok()) {
      if (!scope.partition || db::in_partition(rt, item.document, ids[i], scope.prefix)) {
        docs.push_back(std::move(item.document));
      }
    } else if (!item.status.is_not_found() && first_error.ok()) {
      first_error = item.status;
    }
  };
  (void)r.get_many(ids, std::move(o));
  if (!first_error.ok()) return first_error;
  return docs;
}

ScanOptions scan_of(ListOptions&& o) {
  ScanOptions s;
  s.partition = std::move(o.partition);
  s.values = std::move(o.values);
  s.limit = o.limit;
  s.op = std::move(o.op);
  return s;
}

}  // namespace

Status Resource::scan(ScanOptions options, const std::function<bool(json&)>& on_record) {
  auto rt = state_->runtime();
  std::optional<db::Filter> filter;
  if (!options.filter.is_null()) {
    auto compiled = db::Filter::compile(options.filter);
    if (!compiled.ok()) return compiled.status().with_context("query");
    filter = std::move(compiled).value();
    if (options.partition.empty()) pick_partition(*rt, *filter, options);
  }
  auto scope = scope_of(*rt, options.partition, options.values);
  if (!scope.ok()) return scope.status();
  Scanner scanner(*this, state_->client(), *rt, *scope, filter ? &*filter : nullptr, options, on_record);
  S3DB_RETURN_IF_ERROR(state_->client().list_each(
      scope->prefix, [&](ObjectMeta& m) { return scanner.add(m.key); }, options.op));
  return scanner.finish();
}

// Ids under the scope, in key order, `limit` at most (0 = all). In a partition, each reference is
// checked against its record (a scan), so stale references are never returned.
Result<std::vector<std::string>> Resource::list_ids(ListOptions options) {
  auto rt = state_->runtime();
  auto scope = scope_of(*rt, options.partition, options.values);
  if (!scope.ok()) return scope.status();
  std::vector<std::string> ids;
  const std::size_t limit = options.limit;
  const auto more = [&] { return limit == 0 || ids.size() < limit; };
  if (scope->partition) {
    S3DB_RETURN_IF_ERROR(scan(scan_of(std::move(options)), [&](json& d) {
      ids.push_back(d["id"].get<std::string>());
      return true;
    }));
    return ids;
  }
  S3DB_RETURN_IF_ERROR(state_->client().list_each(
      scope->prefix, [&](ObjectMeta& m) {
        ids.emplace_back(db::id_of_key(m.key));
        return more();
      },
      options.op));
  return ids;
}

Result<std::vector<json>> Resource::list(ListOptions options) {
  std::vector<json> docs;
  S3DB_RETURN_IF_ERROR(scan(scan_of(std::move(options)), [&](json& d) {
    docs.push_back(std::move(d));
    return true;
  }));
  return docs;
}

Result<std::size_t> Resource::count(ListOptions options) {
  auto rt = state_->runtime();
  auto scope = scope_of(*rt, options.partition, options.values);
  if (!scope.ok()) return scope.status();
  std::size_t n = 0;
  if (scope->partition) {  // exact: references are checked against their records
    S3DB_RETURN_IF_ERROR(scan(scan_of(std::move(options)), [&](json&) {
      ++n;
      return true;
    }));
    return n;
  }
  S3DB_RETURN_IF_ERROR(state_->client().list_each(
      scope->prefix, [&](ObjectMeta&) {
        ++n;
        return options.limit == 0 || n < options.limit;
      },
      options.op));
  return n;
}

Result<Page> Resource::page(PageRequest request) {
  if (request.size < 1 || request.size > 1000) return Status::InvalidArgument("page", "size must be 1..1000");
  auto rt = state_->runtime();
  auto scope = scope_of(*rt, request.partition, request.values);
  if (!scope.ok()) return scope.status();
  const std::string& prefix = scope->prefix;
  ListRequest req;
  req.prefix = prefix;
  req.max_keys = static_cast<int>(request.size);
  if (!request.cursor.empty()) req.start_after = prefix + request.cursor;
  auto listed = state_->client().list(req, request.op);
  if (!listed.ok()) return listed.status().with_context("page " + rt->def.name);
  std::vector<std::string> ids;
  for (const auto& obj : listed->objects) ids.emplace_back(db::id_of_key(obj.key));
  Page page;
  if (listed->truncated && !listed->objects.empty()) {
    page.next_cursor = listed->objects.back().key.substr(prefix.size());
  }
  auto docs = fetch(*this, *rt, ids, *scope, request.op);
  if (!docs.ok()) return docs.status();
  page.items = std::move(docs).value();
  return page;
}

Result<std::vector<json>> Resource::query(const json& filter, ListOptions options) {
  ScanOptions o = scan_of(std::move(options));
  o.filter = filter;  // null: every record
  std::vector<json> out;
  Status s = scan(std::move(o), [&](json& d) {
    out.push_back(std::move(d));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace s3db
