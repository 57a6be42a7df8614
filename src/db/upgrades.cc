#include "db/upgrades.h"

#include <exception>

namespace s3db {

using nlohmann::json;

namespace db {

Status apply_upgrades(const Resource::State& rs, const Runtime& rt, int version, std::string_view id, json& doc) {
  const auto upgrades = rs.upgrade_set();
  if (!upgrades) return Status::OK();
  for (int v = version; v < rt.def.current_version; ++v) {
    auto step = upgrades->find(v);
    if (step == upgrades->end() || !step->second) continue;
    const std::string what =
        "upgrade " + rt.def.name + "/" + std::string(id) + " from version " + std::to_string(v);
    Result<json> next = Status::Internal(what, "not run");
    try {
      next = step->second(std::move(doc));
    } catch (const std::exception& e) {
      return Status::Internal(what, std::string("the upgrade threw: ") + e.what());
    }
    if (!next.ok()) return next.status().with_context(what);
    if (!next->is_object()) return Status::InvalidArgument(what, "the upgrade did not return a JSON object");
    doc = std::move(next).value();
    doc["id"] = std::string(id);  // the id lives in the key: an upgrade cannot move a record
  }
  return Status::OK();
}

}  // namespace db

void Resource::set_upgrade(int from_version, std::function<Result<json>(json)> fn) {
  State& st = *state_;
  std::lock_guard<std::mutex> lock(st.mu);
  auto next = st.upgrades ? std::make_shared<State::Upgrades>(*st.upgrades) : std::make_shared<State::Upgrades>();
  if (fn) {
    (*next)[from_version] = std::move(fn);
  } else {
    next->erase(from_version);
  }
  st.upgrades = next->empty() ? nullptr : std::move(next);
  st.upgrades_uid = st.upgrades ? next_database_uid() : 0;
}

}  // namespace s3db
