// Resource: bulk calls (with backpressure). Reads of many records are in resource_scan.cc.
#include "s3db/resource.h"

#include "db/records.h"
#include "db/state.h"

#include <deque>
#include <functional>

namespace s3db {

using nlohmann::json;

namespace {

std::size_t window_of(Client& c, const BulkOptions& o) {
  return o.max_in_flight > 0 ? o.max_in_flight : db::default_window(c);
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
    } else if constexpr (std::is_same_v<T, std::string>) {  // an id
      if (r.ok()) item.id = std::move(r).value();
      else item.status = r.status();
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

BulkResult Resource::insert_many_json(const std::vector<std::string_view>& texts, BulkOptions options) {
  Client& c = state_->client();
  return run_bulk<std::string>(
      c, texts.size(), options,
      [&](std::size_t i) { return insert_json_async(std::string(texts[i]), options.op); },
      [](std::size_t) { return std::string(); });  // known once written (a failed item: empty)
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

}  // namespace s3db
