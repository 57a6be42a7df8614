// Resource: bulk calls (with backpressure) and reads of many records (list, page, count, query).
#include "s3db/resource.h"

#include "db/filter.h"
#include "db/records.h"
#include "db/state.h"

#include <deque>
#include <functional>

namespace s3db {

using nlohmann::json;

namespace {

std::size_t window_of(Client& c, const BulkOptions& o) {
  if (o.max_in_flight > 0) return o.max_in_flight;
  const int conc = c.pool().stats().concurrency;
  return static_cast<std::size_t>(conc > 0 ? 2 * conc : 2);
}

// Submits item i via `submit(i)` (a Future<T>) keeping at most `window` futures outstanding; the
// oldest is settled before another is submitted, so memory is O(window) whatever n is.
template <class T, class Submit, class IdOf>
BulkResult run_bulk(Client& c, std::size_t n, const BulkOptions& o, Submit submit, IdOf id_of) {
  BulkResult out;
  if (!o.on_item) out.items.reserve(n);
  const std::size_t window = window_of(c, o);
  struct Pending {
    std::size_t index;
    std::string id;  // known before the call (caller ids); generated ids come from the result
    Future<T> future;
  };
  std::deque<Pending> in_flight;
  auto settle = [&] {
    Pending p = std::move(in_flight.front());
    const std::size_t index = p.index;
    auto& fut = p.future;
    in_flight.pop_front();
    ItemResult item;
    auto r = fut.get();
    if constexpr (std::is_void_v<T>) {
      item.status = std::move(r);
    } else {
      if (r.ok()) {
        if (r->is_object() && r->contains("id") && (*r)["id"].is_string()) item.id = (*r)["id"].template get<std::string>();
        if (o.keep_documents) item.document = std::move(r).value();
      } else {
        item.status = r.status();
      }
    }
    if (item.id.empty()) item.id = std::move(p.id);
    (item.status.ok() ? out.succeeded : out.failed) += 1;
    if (o.on_item) {
      o.on_item(index, item);
    } else {
      out.items.push_back(std::move(item));
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (in_flight.size() >= window) settle();
    std::string id = id_of(i);
    in_flight.push_back(Pending{i, std::move(id), submit(i)});
  }
  while (!in_flight.empty()) settle();
  return out;
}

// Every key under `prefix`, one LIST page (one pool op) at a time (Client::list_each); `fn(key)`
// false stops early.
template <class Fn>
Status scan_keys(Client& c, const std::string& prefix, const OpOptions& op, Fn fn) {
  return c.list_each(prefix, [&](ObjectMeta& m) { return fn(m.key); }, op);
}

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

// Fetches documents for `ids` with backpressure; skips ids whose record is gone or, in a partition,
// no longer has the partition's values (a stale reference: a crash between writes, or a move
// that raced another); fails on any other error. `keep(doc)` sees each document in id order.
Status fetch_each(Resource& r, const db::Runtime& rt, const std::vector<std::string>& ids, const Scope& scope,
                  const OpOptions& op, const std::function<void(json&)>& keep) {
  BulkOptions o;
  o.op = op;
  Status first_error;
  o.on_item = [&](std::size_t i, ItemResult& item) {
    if (item.status.ok()) {
      if (!scope.partition || db::in_partition(rt, item.document, ids[i], scope.prefix)) keep(item.document);
    } else if (!item.status.is_not_found() && first_error.ok()) {
      first_error = item.status;
    }
  };
  (void)r.get_many(ids, std::move(o));
  return first_error;
}

Result<std::vector<json>> fetch(Resource& r, const db::Runtime& rt, const std::vector<std::string>& ids,
                                const Scope& scope, const OpOptions& op) {
  std::vector<json> docs;
  docs.reserve(ids.size());
  S3DB_RETURN_IF_ERROR(fetch_each(r, rt, ids, scope, op, [&](json& d) { docs.push_back(std::move(d)); }));
  return docs;
}

// The records a partition's references point to that really have the partition's values, in key
// order, one LIST page (up to 1,000 references) fetched and checked at a time; `keep(doc)`
// returning false stops.
Status each_in_partition(Resource& r, Client& c, const db::Runtime& rt, const Scope& scope, const OpOptions& op,
                         const std::function<bool(json&)>& keep) {
  bool more = true;
  std::vector<std::string> batch;
  const auto check_batch = [&]() -> Status {
    Status s = fetch_each(r, rt, batch, scope, op, [&](json& d) { more = more && keep(d); });
    batch.clear();
    return s;
  };
  Status checked;
  S3DB_RETURN_IF_ERROR(scan_keys(c, scope.prefix, op, [&](const std::string& key) {
    batch.emplace_back(db::id_of_key(key));
    if (batch.size() < 1000) return true;
    checked = check_batch();
    return checked.ok() && more;
  }));
  S3DB_RETURN_IF_ERROR(checked);
  return check_batch();
}

}  // namespace

BulkResult Resource::insert_many(std::vector<json> docs, BulkOptions options) {
  Client& c = state_->client();
  return run_bulk<json>(
      c, docs.size(), options, [&](std::size_t i) { return insert_async(std::move(docs[i]), options.op); },
      [&](std::size_t i) {
        auto it = docs[i].is_object() ? docs[i].find("id") : docs[i].end();
        return it != docs[i].end() && it->is_string() ? it->template get<std::string>() : std::string();
      });
}

BulkResult Resource::get_many(const std::vector<std::string>& ids, BulkOptions options) {
  Client& c = state_->client();
  return run_bulk<json>(
      c, ids.size(), options, [&](std::size_t i) { return get_async(ids[i], options.op); },
      [&](std::size_t i) { return ids[i]; });
}

BulkResult Resource::remove_many(const std::vector<std::string>& ids, BulkOptions options) {
  Client& c = state_->client();
  return run_bulk<void>(
      c, ids.size(), options, [&](std::size_t i) { return remove_async(ids[i], options.op); },
      [&](std::size_t i) { return ids[i]; });
}

// Ids under `scope`, in key order, `limit` at most (0 = all). In a partition, each reference is
// checked against its record (one GET each, with backpressure), a page of keys at a time.
Result<std::vector<std::string>> Resource::list_ids(ListOptions options) {
  auto rt = state_->runtime();
  auto scope = scope_of(*rt, options.partition, options.values);
  if (!scope.ok()) return scope.status();
  std::vector<std::string> ids;
  const auto more = [&] { return options.limit == 0 || ids.size() < options.limit; };
  if (!scope->partition) {
    S3DB_RETURN_IF_ERROR(scan_keys(state_->client(), scope->prefix, options.op, [&](const std::string& key) {
      ids.emplace_back(db::id_of_key(key));
      return more();
    }));
  } else {
    S3DB_RETURN_IF_ERROR(each_in_partition(*this, state_->client(), *rt, *scope, options.op, [&](json& d) {
      ids.push_back(d["id"].get<std::string>());
      return more();
    }));
  }
  return ids;
}

Result<std::vector<json>> Resource::list(ListOptions options) {
  auto rt = state_->runtime();
  auto scope = scope_of(*rt, options.partition, options.values);
  if (!scope.ok()) return scope.status();
  if (scope->partition) {  // the records are read to check the references: keep them
    std::vector<json> docs;
    S3DB_RETURN_IF_ERROR(each_in_partition(*this, state_->client(), *rt, *scope, options.op, [&](json& d) {
      docs.push_back(std::move(d));
      return options.limit == 0 || docs.size() < options.limit;
    }));
    return docs;
  }
  const OpOptions op = options.op;
  auto ids = list_ids(std::move(options));
  if (!ids.ok()) return ids.status();
  return fetch(*this, *rt, *ids, *scope, op);
}

Result<std::size_t> Resource::count(ListOptions options) {
  auto rt = state_->runtime();
  auto scope = scope_of(*rt, options.partition, options.values);
  if (!scope.ok()) return scope.status();
  std::size_t n = 0;
  if (scope->partition) {  // exact: references are checked against their records
    S3DB_RETURN_IF_ERROR(each_in_partition(*this, state_->client(), *rt, *scope, options.op, [&](json&) {
      ++n;
      return options.limit == 0 || n < options.limit;
    }));
    return n;
  }
  Status s = scan_keys(state_->client(), scope->prefix, options.op, [&](const std::string&) {
    ++n;
    return options.limit == 0 || n < options.limit;
  });
  if (!s.ok()) return s;
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
  auto compiled = db::Filter::compile(filter);
  if (!compiled.ok()) return compiled.status().with_context("query");
  const db::Filter& f = *compiled;
  auto rt = state_->runtime();
  ListOptions scan;
  scan.op = options.op;
  scan.partition = options.partition;
  scan.values = options.values;
  if (scan.partition.empty()) {  // a partition whose every field the filter fixes to a scalar
    for (const auto& p : rt->def.partitions) {
      json values = json::object();
      for (const auto& field : p.fields) {
        const json* v = f.fixed(field);
        if (!v) break;
        values[field] = *v;
      }
      if (values.size() != p.fields.size()) continue;
      scan.partition = p.name;
      scan.values = std::move(values);
      break;
    }
  }
  auto docs = list(std::move(scan));
  if (!docs.ok()) return docs.status();
  std::vector<json> out;
  for (auto& d : *docs) {
    if (!f.matches(d)) continue;
    out.push_back(std::move(d));
    if (options.limit != 0 && out.size() >= options.limit) break;
  }
  return out;
}

}  // namespace s3db
