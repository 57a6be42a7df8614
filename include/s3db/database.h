// s3db/database.h — a set of resources under one prefix of an object store, described by the
// `s3db.json` catalog at the prefix root (see docs/storage-format.md).
//
// Contract
// - Database::open(uri, options) opens a Client (s3db/client.h) for `uri` and reads s3db.json;
//   Database::open(client, options) uses an existing Client: databases opened on one Client share
//   its one OperationPool. Reading the catalog is one pool operation.
// - A missing s3db.json is a new, empty database (the catalog is written by the first
//   create_resource). A corrupt s3db.json (not JSON, wrong shape, unknown format version) →
//   InvalidArgument "s3db.json at <key> is corrupt: <why>"; nothing is overwritten.
// - create_resource(config): creates the resource (schema version 1), or returns the existing one
//   when its definition is unchanged; a changed attribute set creates schema version N+1. Short
//   metadata keys of existing attributes never change, so records of every version stay readable.
//   Catalog writes are conditional (If-None-Match / If-Match) and retried on conflict, so two
//   processes creating resources concurrently lose nothing. Errors: InvalidArgument (bad name,
//   bad schema, partition over an unknown attribute), Unauthorized (wrong passphrase).
// - Secret attributes need DatabaseOptions::passphrase. The key is PBKDF2-SHA256(passphrase,
//   per-database salt from s3db.json); s3db.json stores an encrypted check value so that a wrong
//   passphrase fails at open() with Unauthorized instead of producing garbage.
// - Database is a cheap handle (shared state); copies refer to the same database. Thread-safe.
#pragma once

#include <s3db/client.h>
#include <s3db/resource.h>
#include <s3db/schema.h>
#include <s3db/status.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3db {

struct DatabaseOptions {
  ClientOptions client;                 // used by open(uri): pool enabled/disabled, PoolOptions
  std::optional<std::string> prefix;    // key prefix inside the store for this database
                                        // (no leading/trailing '/'); unset = "" — the URI's own
                                        // prefix is applied by the storage client
  std::string passphrase;               // for "secret" attributes; empty = none
  UnknownAttributes unknown_attributes = UnknownAttributes::kReject;  // resource default
  bool timestamps = false;              // resource default for createdAt/updatedAt
  int pbkdf2_iterations = 100000;       // used when a database first gets a passphrase
  OpOptions op;                         // options of the catalog operations
  // Resource::get/exists of one record submitted while one is in flight share it (s3db/resource.h);
  // false: every read runs on its own.
  bool dedup_reads = true;
  // Resource events waiting for their listeners (s3db/resource.h, Resource::on); beyond this many
  // new events are dropped and counted (Resource::events_dropped()). At least 1.
  std::size_t event_queue_capacity = 10000;
};

class Database {
 public:
  static Result<Database> open(std::string_view uri, DatabaseOptions options = {});
  static Result<Database> open(std::shared_ptr<Client> client, DatabaseOptions options = {});

  Result<Resource> create_resource(ResourceConfig config);
  // Drops resource `name` (NotFound when the catalog has no such resource): Resource::remove_all()
  // of its root (options: progress, OpOptions), then its catalog entry (a conditional s3db.json
  // write, retried on conflict like create_resource), then one more sweep of the root for records
  // a concurrent writer added meanwhile. Data first: a crash or a failure part way leaves the
  // resource listed, with fewer records, and drop_resource again finishes it — never an orphaned
  // root that a later create_resource of the name would read with the wrong layout. A key the
  // store refuses to remove → that error, and the catalog entry stays.
  // Handles of the dropped resource (from this Database or its copies) fail every later get,
  // list, query, page, update, insert and remove with NotFound, even after the name is created
  // again — take a new handle. Handles in other processes are not fenced: stop their writers
  // first (a record they write afterwards is orphaned under the name's root). A later
  // create_resource of the name starts at schema version 1 with fresh short keys.
  Status drop_resource(std::string_view name, Resource::RemoveAllOptions options = {});
  // NotFound when no such resource is in the catalog. Re-reads s3db.json when the name is unknown
  // locally (another process may have created it).
  Result<Resource> resource(std::string_view name);
  std::vector<std::string> list_resources() const;  // sorted names
  // Re-reads s3db.json (picks up resources and versions created by other processes).
  Status reload();

  Client& client() const noexcept;
  std::shared_ptr<Client> client_ptr() const noexcept;
  const std::string& prefix() const noexcept;
  std::string catalog_key() const;  // "<prefix>/s3db.json" or "s3db.json"

  struct State;  // implementation detail
  explicit Database(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

}  // namespace s3db
