#include "s3db/database.h"

#include "db/admin.h"
#include "db/catalog.h"
#include "db/crypto.h"
#include "db/state.h"
#include "db/text.h"
#include "db/write_loop.h"

#include <algorithm>

namespace s3db {

using nlohmann::json;

namespace {

constexpr std::string_view kCheckPlain = "s3db passphrase check";
constexpr std::string_view kCheckAad = "s3db.json/security";

// Reads the catalog inside one op: (catalog, etag, stamp), or a fresh catalog with an empty etag.
struct Loaded {
  db::Catalog catalog;
  std::string etag;
  db::WriteStamp stamp;
};

Result<Loaded> read_catalog(StorageClient& storage, const std::string& key, OpContext& ctx) {
  auto obj = storage.get(key, ctx);
  if (!obj.ok()) {
    if (obj.status().is_not_found()) return Loaded{};
    return obj.status().with_context("read " + key);
  }
  auto parsed = db::parse_catalog(obj->body, key);
  if (!parsed.ok()) return parsed.status();
  return Loaded{std::move(parsed).value(), obj->meta.etag, db::stamp_of_body(obj->body)};
}


}  // namespace

namespace db {

Result<std::shared_ptr<const Runtime>> build_runtime(const ResourceDef& def, const std::string& prefix) {
  auto rt = std::make_shared<Runtime>();
  rt->def = def;
  for (const auto& [v, attrs] : def.versions) {
    auto schema = Schema::compile(attrs);
    if (!schema.ok()) {
      return Status::InvalidArgument("s3db.json: resource " + def.name + " version " + std::to_string(v),
                                     schema.status().message());
    }
    auto layout = make_layout(def.name, v, *schema, def.keys);
    if (!layout.ok()) return layout.status();
    rt->schemas.emplace(v, std::move(schema).value());
    rt->layouts.emplace(v, std::move(layout).value());
  }
  rt->schema = &rt->schemas.at(def.current_version);
  rt->layout = &rt->layouts.at(def.current_version);
  rt->root = resource_root(prefix, def.name);
  rt->data_prefix = rt->root + "data/id=";
  rt->partition_root = rt->root + "partition=";
  rt->content_prefix = rt->root + "content/id=";
  return std::shared_ptr<const Runtime>(std::move(rt));
}

}  // namespace db

Status Database::State::reload() {
  return client->pool().run([this](OpContext& ctx) { return reload_in(ctx); }, client->effective(options.op));
}

Status Database::State::reload_in(OpContext& ctx) {
  auto loaded = read_catalog(client->storage(), catalog_key, ctx);
  if (!loaded.ok()) return loaded.status();
  std::lock_guard<std::mutex> lock(mu);
  catalog = std::move(loaded->catalog);
  etag = std::move(loaded->etag);
  stamp = std::move(loaded->stamp);
  runtimes.clear();
  return Status::OK();
}

Result<std::shared_ptr<const db::Runtime>> Database::State::runtime(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = runtimes.find(name); it != runtimes.end()) return it->second;
  auto def = catalog.resources.find(name);
  if (def == catalog.resources.end()) return Status::NotFound("resource '" + name + "'", "not in " + catalog_key);
  auto rt = db::build_runtime(def->second, prefix);
  if (!rt.ok()) return rt.status();
  runtimes[name] = *rt;
  return rt;
}

Status Resource::State::refresh(OpContext& ctx) {
  S3DB_RETURN_IF_ERROR(db->reload_in(ctx));
  const auto name = runtime()->def.name;
  auto rt = db->runtime(name);
  if (!rt.ok()) return rt.status();
  set_runtime(std::move(rt).value());
  return Status::OK();
}

namespace {

// s3db.json through the one conflict-retry loop (db/write_loop.h): starts from the cached catalog
// (no read when it is current), re-reads on conflict and applies `mutate` to the freshest one.
class CatalogWrite final : public db::WriteSteps {
 public:
  CatalogWrite(Database::State& st, const std::function<Status(db::Catalog&)>& mutate)
      : st_(st), mutate_(mutate) {
    std::lock_guard<std::mutex> lock(st.mu);
    current_ = st.catalog;
    state_.base = db::Base{!st.etag.empty(), st.etag, st.stamp};
    state_.base_known = true;
  }
  Status run(OpContext& ctx) { return db::run_write(st_.client->storage(), *this, state_, ctx); }
  db::WriteState& state() { return state_; }
  Loaded& result() { return result_; }

  db::Target target() const override { return db::Target::kEither; }
  Status read(db::Base& base, OpContext& ctx) override {
    auto fresh = read_catalog(st_.client->storage(), st_.catalog_key, ctx);
    if (!fresh.ok()) return fresh.status();  // a corrupt catalog is never overwritten
    base = db::Base{!fresh->etag.empty(), std::move(fresh->etag), std::move(fresh->stamp)};
    current_ = std::move(fresh->catalog);
    return Status::OK();
  }
  Status build(const db::Base&, const db::WriteStamp& stamp, PutRequest& put) override {
    next_ = current_;
    S3DB_RETURN_IF_ERROR(mutate_(next_));
    put.key = st_.catalog_key;
    put.body = db::serialize_catalog(next_, stamp.text());
    put.content_type = "application/json";
    token_ = stamp.token;
    return Status::OK();
  }
  void keep_outstanding(const db::WriteStamp& mine) override { kept_.emplace_back(mine.token, next_); }
  Status landed(const db::WriteStamp& mine, std::string_view etag, OpContext&) override {
    db::Catalog* stored = &next_;
    for (auto& [token, catalog] : kept_) {
      if (token == mine.token && mine.token != token_) stored = &catalog;
    }
    result_ = Loaded{std::move(*stored), std::string(etag), mine};
    return Status::OK();
  }
  Status absent() override { return Status::NotFound("write " + st_.catalog_key); }  // kEither: unused
  std::string what() const override { return "write " + st_.catalog_key; }
  std::string key() const override { return st_.catalog_key; }

 private:
  Database::State& st_;
  const std::function<Status(db::Catalog&)>& mutate_;
  db::WriteState state_;
  db::Catalog current_, next_;
  std::string token_;
  std::vector<std::pair<std::string, db::Catalog>> kept_;
  Loaded result_;
};

// Applies `mutate` to the freshest catalog and writes it; the whole loop is one pool operation.
Status update_catalog(Database::State& st, const std::function<Status(db::Catalog&)>& mutate) {
  const OpOptions op = st.client->effective(st.options.op);
  CatalogWrite write(st, mutate);
  write.state().budget = db::AttemptBudget::of(st.client->pool(), op);
  // A named op, so that the write loop has the last word on a final failure (db::final_status).
  struct CatalogOp {
    CatalogWrite& write;
    Status operator()(OpContext& ctx) { return write.run(ctx); }
    Status final_status(Status s) const { return db::final_status(write.state(), write, std::move(s)); }
  };
  S3DB_RETURN_IF_ERROR(st.client->pool().run(CatalogOp{write}, op));
  std::lock_guard<std::mutex> lock(st.mu);
  st.catalog = std::move(write.result().catalog);
  st.etag = std::move(write.result().etag);
  st.stamp = std::move(write.result().stamp);
  st.runtimes.clear();
  return Status::OK();
}

// Derives the key when a passphrase is given: from the catalog's salt, or a new salt written to
// the catalog (first use). A key that does not open the check value → Unauthorized.
Status setup_security(Database::State& st) {
  if (st.options.passphrase.empty()) return Status::OK();
  db::Security sec;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    sec = st.catalog.security;
  }
  if (!sec.present()) {
    const std::string salt = db::base64url_encode(db::secure_random(16));
    const int iterations = std::max(1, st.options.pbkdf2_iterations);
    auto box = db::SecretBox::derive(st.options.passphrase, salt, iterations);
    if (!box.ok()) return box.status();
    auto check = (*box)->seal(kCheckPlain, kCheckAad);
    if (!check.ok()) return check.status();
    S3DB_RETURN_IF_ERROR(update_catalog(st, [&](db::Catalog& c) {
      if (!c.security.present()) c.security = db::Security{salt, iterations, *check};
      return Status::OK();
    }));
    std::lock_guard<std::mutex> lock(st.mu);
    sec = st.catalog.security;  // another process may have won: use what is stored
  }
  auto box = db::SecretBox::derive(st.options.passphrase, sec.salt, sec.iterations);
  if (!box.ok()) return box.status();
  auto plain = (*box)->open(sec.check, kCheckAad);
  if (!plain.ok() || *plain != kCheckPlain) {
    return Status::Unauthorized("open database " + st.catalog_key,
                                "wrong passphrase (it does not match the one this database was created with)");
  }
  st.box = std::move(box).value();
  return Status::OK();
}

// A handle of the compiled resource `rt`, live until the resource is dropped (check_live).
std::shared_ptr<Resource::State> new_handle(const std::shared_ptr<Database::State>& st,
                                           std::shared_ptr<const db::Runtime> rt) {
  auto rs = std::make_shared<Resource::State>();
  rs->db = st;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    auto it = st->drops.find(rt->def.name);
    rs->drops_seen = it == st->drops.end() ? 0 : it->second;
    rs->all_drops_seen = st->all_drops.load(std::memory_order_acquire);
  }
  rs->set_runtime(std::move(rt));
  return rs;
}

}  // namespace

Result<Database> Database::open(std::string_view uri, DatabaseOptions options) {
  auto client = Client::open(uri, options.client);
  if (!client.ok()) return client.status();
  return open(std::move(client).value(), std::move(options));
}

Result<Database> Database::open(std::shared_ptr<Client> client, DatabaseOptions options) {
  if (!client) return Status::InvalidArgument("Database::open", "null client");
  auto st = std::make_shared<State>();
  st->client = std::move(client);
  std::string prefix = options.prefix.value_or("");
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  st->prefix = prefix.empty() ? "" : prefix + "/";
  st->prefix_name = prefix;
  st->catalog_key = st->prefix + "s3db.json";
  st->options = std::move(options);
  S3DB_RETURN_IF_ERROR(st->reload());
  S3DB_RETURN_IF_ERROR(setup_security(*st));
  return Database(std::move(st));
}

Result<Resource> Database::create_resource(ResourceConfig config) {
  State& st = *state_;
  S3DB_RETURN_IF_ERROR(config.validate());
  auto schema = Schema::compile(config.attributes);
  if (!schema.ok()) return schema.status().with_context("create_resource " + config.name);
  if (schema->has_secrets() && !st.box) {
    return Status::InvalidArgument("create_resource " + config.name,
                                   "secret attributes need DatabaseOptions::passphrase");
  }
  const bool timestamps = config.timestamps.value_or(st.options.timestamps);
  const UnknownAttributes unknown = config.unknown_attributes.value_or(st.options.unknown_attributes);
  auto partitions = config.partitions;
  std::sort(partitions.begin(), partitions.end(),
            [](const PartitionConfig& a, const PartitionConfig& b) { return a.name < b.name; });

  S3DB_RETURN_IF_ERROR(update_catalog(st, [&](db::Catalog& c) {
    auto [it, created] = c.resources.try_emplace(config.name);
    db::ResourceDef& d = it->second;
    if (created) {
      d.name = config.name;
      d.current_version = 1;
      d.versions[1] = config.attributes;
    } else if (d.versions.at(d.current_version) != config.attributes) {
      d.current_version = d.versions.rbegin()->first + 1;
      d.versions[d.current_version] = config.attributes;
    }
    // Short keys are assigned once per attribute name and never reused.
    for (const auto& f : schema->fields()) {
      if (!d.keys.contains(f.name)) d.keys[f.name] = db::to_base36(d.next_key++);
    }
    d.behavior = config.behavior;
    d.timestamps = timestamps;
    d.unknown = unknown;
    d.id_size = config.id_size;
    d.partitions = partitions;
    return Status::OK();
  }));
  auto rt = st.runtime(config.name);
  if (!rt.ok()) return rt.status();
  auto rs = new_handle(state_, std::move(rt).value());
  rs->id_generator = std::move(config.id_generator);
  if (!config.upgrades.empty()) {
    rs->upgrades = std::make_shared<const Resource::State::Upgrades>(std::move(config.upgrades));
    rs->upgrades_uid = next_database_uid();
  }
  return Resource(std::move(rs));
}

Result<Resource> Database::resource(std::string_view name) {
  std::string n(name);
  auto rt = state_->runtime(n);
  if (!rt.ok() && rt.status().is_not_found()) {
    S3DB_RETURN_IF_ERROR(state_->reload());
    rt = state_->runtime(n);
  }
  if (!rt.ok()) return rt.status();
  return Resource(new_handle(state_, std::move(rt).value()));
}

// Data first, then the catalog entry (docs/database.md "Drop, truncate and migrate"): an
// interrupted drop leaves a listed, partly emptied resource that a second drop finishes, never a
// root of old records that a new resource of the name would decode with its own layout.
Status Database::drop_resource(std::string_view name, Resource::RemoveAllOptions options) {
  State& st = *state_;
  const std::string n(name);
  auto r = resource(n);
  if (!r.ok()) return r.status();
  {
    // Fence this process's handles first, so that none of them writes while the root is emptied.
    std::lock_guard<std::mutex> lock(st.mu);
    ++st.drops[n];
    st.all_drops.fetch_add(1, std::memory_order_acq_rel);
  }
  const std::string context = "drop_resource " + n;
  const std::string root = db::resource_root(st.prefix, n);
  Resource::RemoveAllResult removed;
  S3DB_RETURN_IF_ERROR(db::remove_root(*st.client, root, options, removed).with_context(context));
  S3DB_RETURN_IF_ERROR(db::all_removed(removed).with_context(context));
  S3DB_RETURN_IF_ERROR(update_catalog(st, [&](db::Catalog& c) {
    c.resources.erase(n);  // already gone (another process dropped it): nothing to write over
    return Status::OK();
  }));
  // A writer elsewhere may have added records while the root was emptied: one more sweep (one
  // LIST when there are none), so that a later create_resource of the name starts empty.
  S3DB_RETURN_IF_ERROR(db::remove_root(*st.client, root, options, removed).with_context(context));
  return db::all_removed(removed).with_context(context);
}

std::vector<std::string> Database::list_resources() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<std::string> names;
  for (const auto& [name, _] : state_->catalog.resources) names.push_back(name);
  return names;
}

Status Database::reload() { return state_->reload(); }
Client& Database::client() const noexcept { return *state_->client; }
std::shared_ptr<Client> Database::client_ptr() const noexcept { return state_->client; }
const std::string& Database::prefix() const noexcept { return state_->prefix_name; }
std::string Database::catalog_key() const { return state_->catalog_key; }

}  // namespace s3db
