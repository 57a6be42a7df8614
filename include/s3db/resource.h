// s3db/resource.h — a collection of JSON documents on an object store (s3db.js's Resource).
//
// Contract
// - Obtained from Database::create_resource() / Database::resource(). A Resource is a cheap handle
//   (shared state); copies refer to the same resource. Thread-safe: any call from any thread.
// - Every call is ONE operation of the Client's OperationPool (validation, encoding and every
//   storage request of the call run inside it), so the pool's concurrency limit, priorities,
//   retries, timeouts and deadlines (OpOptions) bound all work. Bulk calls submit at most
//   BulkOptions::max_in_flight operations at a time (default 2 × pool concurrency): memory stays
//   flat whatever the number of items.
// - Documents are JSON objects. The id is the "id" field: generated (22 URL-safe characters, or the
//   resource's generator) when absent; a caller-supplied id must be a non-empty string of at most
//   255 bytes of UTF-8 without '/', control characters (C0, DEL, C1), line separators or
//   bidirectional controls, else InvalidArgument and nothing written. Anything else ('=', '%',
//   "id=", spaces, any script) is an id that list/page/query return as given. Generated ids and
//   write tokens never repeat across threads, processes, or processes forked after use.
// - insert is a conditional create: an existing id → AlreadyExists (never an overwrite).
// - update/patch/replace read the record and write it back with If-Match on the ETag read; on
//   PreconditionFailed (a concurrent writer won) they re-read and re-apply, at most
//   kMaxUpdateAttempts conflicts, then report PreconditionFailed. From their first conflict on,
//   the writers of one record in one process take turns in arrival order (no thread starves
//   another); against other processes they pause, jittered, longer after each conflict.
//   No update is lost. Every write stores a stamp in the body (a fresh token and the record's
//   sequence number), so the ETag changes with every write and never returns to an earlier one.
// - A write whose request failed ambiguously (timeout, 5xx, dropped connection: the store may have
//   applied it) is judged by reading its stamp back: landed → success (an update function runs
//   once), not landed → retried, undecidable → UnknownOutcome, never retried (read, then decide).
//     update(id, changes): shallow merge — top-level fields of `changes` replace the record's.
//     update(id, fn):      fn(current) returns the new document (id/createdAt kept); fn may run
//                          more than once (once per conflict), so it must be pure.
//     patch(id, changes):  RFC 7386 JSON merge patch — nested merge, null removes a field.
//     replace(id, doc):    the whole document (defaults re-applied); the record must exist.
//     upsert(doc):         insert, or replace when the id exists.
// - Errors: NotFound (missing record), AlreadyExists, PreconditionFailed, InvalidArgument
//   (validation — naming every failing field; an integer outside int64 is "range:int64" —, bad
//   id, oversize record under enforce-limits, secret field without a passphrase), Unauthorized
//   (secret that does not decrypt: wrong passphrase, or a value moved from another record),
//   Internal (a stored record that cannot be decoded), UnknownOutcome (above), plus the pool's
//   and storage's (Timeout, Cancelled, Throttled, Unavailable).
// - remove: NotFound for a missing record, except when an earlier attempt of the same call found
//   it (its DELETE may have landed before the failure the pool retried): then OK.
// - Reads share (OpOptions::dedup_key, s3db/operation_pool.h): a get or exists of a record
//   submitted while one of the same kind is in flight for it on the same Client (a get: through
//   the same Database handle, whose passphrase decodes, schema version and upgrade functions),
//   completes with a copy of that one's result instead of reading the store again; a key the
//   caller set is replaced. Read-your-writes holds in one process: every write (insert, update,
//   patch, replace, upsert, restore, remove) forgets its record's reads before it is
//   acknowledged, so a read submitted after the acknowledgement never joins one submitted
//   before. A caller's dedup_ttl (default 0) lets a get/exists reuse a result that young.
//   Writes are never shared. DatabaseOptions::dedup_reads = false turns sharing off.
// - Partition reference objects are written after the record, moved on update, removed on
//   delete; a writer that removed references reads the record back and restores the references of
//   what is stored. Not transactional: a crash between writes leaves a stale or missing reference.
//   Partition reads (list, list_ids, count, page, query) are exact: each reference is checked
//   against its record (a GET each), so stale references are never returned.
// - Records written under an older schema version are decoded with that version's layout, then
//   passed through the handle's upgrade functions (set_upgrade; ResourceConfig::upgrades).
// - After Database::drop_resource(name), the handles of that Database of the dropped resource
//   answer NotFound (even once the name is created again): take a new one from Database::resource.
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/schema.h>
#include <s3db/status.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3db {

class Client;

// What happens when a record's fields do not fit the 2 KB user-metadata budget. Set through
// ResourceConfig::behavior (the name s3db.js and the catalog use: "behavior": "user-managed").
enum class MetadataBudget : std::uint8_t {
  kUserManaged,    // default: metadata when it fits, else the whole record in the body + a warning
  kEnforceLimits,  // InvalidArgument naming the size; nothing written
  kTruncateData,   // fields in schema order until the budget; the first that does not fit is
                   // truncated (strings only, on a UTF-8 boundary) and later ones dropped
  kBodyOverflow,   // fields in schema order into metadata while they fit, the rest in the body
  kBodyOnly,       // always the whole record in the body (metadata holds only the version)
};
// The former name of MetadataBudget (until 2026-12), kept for code written against it.
using Behavior [[deprecated("use s3db::MetadataBudget")]] = MetadataBudget;
std::string_view behavior_name(MetadataBudget b) noexcept;  // "user-managed", "enforce-limits", ...
Result<MetadataBudget> parse_behavior(std::string_view name);

struct PartitionConfig {
  std::string name;                 // [A-Za-z0-9_-]+
  std::vector<std::string> fields;  // one or more schema attributes
};

struct ResourceConfig {
  std::string name;  // [A-Za-z0-9_.-]+, 1..100 bytes
  nlohmann::json attributes = nlohmann::json::object();  // s3db/schema.h rules
  MetadataBudget behavior = MetadataBudget::kUserManaged;
  std::vector<PartitionConfig> partitions;
  std::optional<bool> timestamps;                       // createdAt/updatedAt; unset = database default
  std::optional<UnknownAttributes> unknown_attributes;  // unset = database default
  std::function<std::string()> id_generator;            // custom ids (validated like caller ids)
  int id_size = 22;                                     // random id length (8..64) without a generator
  // Upgrade functions (code, never stored in s3db.json): upgrades[N] turns a document read from a
  // record written under schema version N into one of version N+1. Applied on read by the handle
  // create_resource returns (Resource::set_upgrade gives them to any other handle); see
  // Resource::set_upgrade for the chain's rules.
  std::map<int, std::function<Result<nlohmann::json>(nlohmann::json)>> upgrades;

  // The checks of Database::create_resource that need no database: name, attribute rules,
  // id_size, partitions (named, non-empty, on scalar attributes). InvalidArgument naming the part;
  // OK says nothing of what needs the database (secret attributes need its passphrase).
  Status validate() const;
};

inline constexpr int kMaxUpdateAttempts = 16;

// What restore() does when a record with the document's id already exists.
enum class IfExists : std::uint8_t {
  kFail,     // AlreadyExists, the stored record untouched
  kReplace,  // the stored record is replaced by the document (conditional write, like replace())
};

// Result of one item of a bulk call.
struct ItemResult {
  std::string id;
  Status status;
  nlohmann::json document;  // the stored / read document; null on failure and for removals
};

struct BulkOptions {
  OpOptions op;
  std::size_t max_in_flight = 0;  // 0 = 2 × pool concurrency
  bool keep_documents = true;     // false: ItemResult::document stays null (saves memory)
  // When set, each item's result is handed here (on the calling thread, in input order) and NOT
  // kept in BulkResult::items: memory stays flat for any N.
  std::function<void(std::size_t index, ItemResult&)> on_item;
};

struct BulkResult {
  std::vector<ItemResult> items;  // input order (empty when on_item is set)
  std::size_t succeeded = 0;
  std::size_t failed = 0;
};

// Restricts list/count/page/query to one partition: {"country": "PT"} for a partition over
// "country". Empty partition name = the whole resource.
struct ListOptions {
  std::string partition;
  nlohmann::json values = nlohmann::json::object();
  std::size_t limit = 0;  // 0 = no limit
  OpOptions op;
};

struct PageRequest {
  std::size_t size = 100;  // 1..1000
  std::string cursor;      // empty = first page; else the previous Page::next_cursor
  std::string partition;
  nlohmann::json values = nlohmann::json::object();
  OpOptions op;
};

struct Page {
  std::vector<nlohmann::json> items;  // id order (UTF-8 byte order)
  std::string next_cursor;            // empty on the last page
};

// What Resource::scan() reads: a whole resource or one partition, optionally filtered and limited.
struct ScanOptions {
  std::string partition;  // as in ListOptions; empty = the whole resource (or one the filter fixes)
  nlohmann::json values = nlohmann::json::object();
  // A query filter (the table above Resource::query()); null = every record.
  nlohmann::json filter = nullptr;
  std::size_t limit = 0;   // records delivered at most; 0 = no limit
  // Documents read ahead (GETs in flight, each holding at most one document): 0 = 2 × the pool's
  // concurrency. With a limit, never more than the records still wanted.
  std::size_t window = 0;
  OpOptions op;
};

// A record's binary content (Resource::set_content / get_content).
inline constexpr std::string_view kDefaultContentType = "application/octet-stream";
struct ContentInfo {
  std::uint64_t size = 0;    // bytes
  std::string content_type;  // as stored (kDefaultContentType when none was given)
  std::string etag;          // of the content object, without quotes
};
struct Content {
  std::string bytes;
  ContentInfo info;
};

// ---- Hooks and events (Resource::before_insert ... Resource::on; contract in class Resource) ----
// Names one registered hook or listener of a Database (never 0, never reused in a process).
using HookId = std::uint64_t;
// Before-hooks may change the document (or reject the call: a non-OK Status is the call's result).
using BeforeInsertHook = std::function<Status(nlohmann::json& doc)>;
using BeforeUpdateHook = std::function<Status(const nlohmann::json& current, nlohmann::json& next)>;
using BeforeDeleteHook = std::function<Status(std::string_view id)>;
// After-hooks see what was stored (removed: the deleted record; see Resource::after_delete).
using AfterInsertHook = std::function<void(const nlohmann::json& stored)>;
using AfterUpdateHook = std::function<void(const nlohmann::json& before, const nlohmann::json& after)>;
using AfterDeleteHook = std::function<void(std::string_view id, const nlohmann::json* removed)>;

enum class ResourceEventKind : std::uint8_t { kInserted, kUpdated, kDeleted };

struct ResourceEvent {
  ResourceEventKind kind = ResourceEventKind::kInserted;
  std::string resource;
  std::string id;
  nlohmann::json before;  // kUpdated: the record replaced; kDeleted: the record removed;
                          // kInserted: null
  nlohmann::json after;   // kInserted, kUpdated: the stored document; kDeleted: null
};
using ResourceListener = std::function<void(const ResourceEvent&)>;

class Resource {
 public:
  const std::string& name() const noexcept;
  const Schema& schema() const noexcept;
  int schema_version() const noexcept;
  MetadataBudget behavior() const noexcept;
  const std::vector<PartitionConfig>& partitions() const noexcept;

  // Hooks and events. Registered per resource NAME in this Database handle (and its copies): every
  // Resource handle of that name from the same Database::open runs them (another open() of the same
  // store does not). Registering and removing are thread-safe, at any time, writes in flight or
  // not; each call snapshots the hooks at its start (a hook added or removed meanwhile does not
  // change a call already submitted). An empty function is not registered (returns 0).
  // - before_insert(doc): insert, insert_many and upsert when it creates — after the id and the
  //   timestamps are set, before validation and encoding. before_update(current, next): update,
  //   patch, replace and upsert when it replaces — on each attempt's merged document (after the
  //   mutation and the timestamps, before validation). before_delete(id): remove, remove_many,
  //   once per call before anything is read or deleted. They run INSIDE the call's pool operation,
  //   in registration order, and may change the document (not its "id": InvalidArgument). A
  //   non-OK Status rejects the call with that Status, nothing written (a retryable code makes the
  //   pool retry the call and the hook run again); a hook that throws → Internal. A conflict
  //   re-runs the mutation and before_update (like update(fn): hooks must tolerate running more
  //   than once per call); an upsert with hooks reads the record first and runs the
  //   hooks of what it does (a concurrent writer can make it run the other kind too).
  // - after_insert(stored), after_update(before, after), after_delete(id, removed): once per
  //   successful call, inside its pool operation after the write landed, before the caller is
  //   answered (so their effects are visible when the call returns). They hold the pool slot:
  //   keep them cheap and never wait on this Client's pool from one (a nested call could wait
  //   for the slot the hook holds). Exceptions are caught and ignored: the write stands.
  //   `removed` (and a kDeleted event's `before`) is the deleted record: while an after_delete hook
  //   or a kDeleted listener is registered, a remove reads it (GET instead of HEAD; a record that
  //   cannot be decoded then cannot be removed, as on a resource with partitions).
  // - restore() runs no hooks (it writes an export back as it was); its events are sent.
  // - on(kind, listener): events of acknowledged writes, kInserted / kUpdated (before and after) /
  //   kDeleted, also for restore and per item of bulk calls. Delivered OFF the calling thread and
  //   never inside a write's pool slot: the write queues the event (never blocks) before it is
  //   answered, and one dispatcher thread per Database (started at the first event, also in a
  //   forked child) calls the listeners, one event at a time, in queue order, no lock held: the
  //   events of calls acknowledged one after another arrive in that order (concurrent writes of
  //   one record may arrive in either order). A slow listener never blocks writes: past
  //   DatabaseOptions::event_queue_capacity waiting events (default 10,000) new ones are dropped
  //   and counted in events_dropped(). A listener that throws is ignored. When the last handle of
  //   the Database goes, the queued events are still delivered (its release waits for them);
  //   when it goes inside a listener, the release ends on the dispatcher thread after the
  //   listener returns (a program that exits at that moment may cut it short).
  // - remove_hook(id): false when unknown. A removed listener is not running when remove_hook
  //   returns (unless called from a listener) and is never called again; a removed hook may
  //   still run in calls submitted before. A hook or listener that captures a Resource or Database
  //   handle keeps that Database alive until it is removed.
  HookId before_insert(BeforeInsertHook hook);
  HookId after_insert(AfterInsertHook hook);
  HookId before_update(BeforeUpdateHook hook);
  HookId after_update(AfterUpdateHook hook);
  HookId before_delete(BeforeDeleteHook hook);
  HookId after_delete(AfterDeleteHook hook);
  HookId on(ResourceEventKind kind, ResourceListener listener);
  bool remove_hook(HookId id);
  // Events of this resource dropped because the Database's event queue was full.
  std::uint64_t events_dropped() const;

  // Single-record calls (synchronous: the final result after the pool's retries).
  Result<nlohmann::json> insert(nlohmann::json doc, OpOptions options = {});
  Result<nlohmann::json> get(std::string_view id, OpOptions options = {});
  Result<std::optional<nlohmann::json>> get_or_null(std::string_view id, OpOptions options = {});
  Result<bool> exists(std::string_view id, OpOptions options = {});
  Result<nlohmann::json> update(std::string_view id, nlohmann::json changes, OpOptions options = {});
  Result<nlohmann::json> update(std::string_view id,
                                std::function<nlohmann::json(nlohmann::json)> fn,
                                OpOptions options = {});
  Result<nlohmann::json> patch(std::string_view id, nlohmann::json merge_patch, OpOptions options = {});
  Result<nlohmann::json> replace(std::string_view id, nlohmann::json doc, OpOptions options = {});
  Result<nlohmann::json> upsert(nlohmann::json doc, OpOptions options = {});
  Status remove(std::string_view id, OpOptions options = {});
  // Writes a document as an export gave it: like insert (the id is generated when absent), but
  // "createdAt"/"updatedAt" are kept as given (ISO 8601 strings, else InvalidArgument naming the
  // field; a missing one is set to now) when the resource has timestamps. An existing id →
  // AlreadyExists, or with IfExists::kReplace the stored record is replaced (timestamps as given).
  Result<nlohmann::json> restore(nlohmann::json doc, IfExists if_exists = IfExists::kFail,
                                 OpOptions options = {});

  // Asynchronous forms: the Future completes with what the synchronous form returns.
  Future<nlohmann::json> insert_async(nlohmann::json doc, OpOptions options = {});
  Future<nlohmann::json> get_async(std::string id, OpOptions options = {});
  Future<nlohmann::json> update_async(std::string id, nlohmann::json changes, OpOptions options = {});
  Future<void> remove_async(std::string id, OpOptions options = {});
  Future<nlohmann::json> restore_async(nlohmann::json doc, IfExists if_exists = IfExists::kFail,
                                       OpOptions options = {});

  // Writes from JSON text: insert() and restore() of the document in `text` (one JSON object,
  // UTF-8), read, validated and encoded in one pass (simdjson On-Demand): no nlohmann::json of the
  // document is built or freed. Same rules, same errors (every failing field named), same stored
  // bytes as insert(nlohmann::json::parse(text)) / restore(...); a text that is not one JSON
  // object is InvalidArgument "not valid JSON: <position>". Returns the record's id. Resources
  // with hooks or partitions (both work on the document), texts that break a rule (the error
  // names every field) and a few rare shapes (a key given twice, an integer beyond 64 bits) go
  // through a parsed json instead: the same result, without the saving. docs/database.md,
  // "Inserting from JSON text". The sync forms copy `text` into the op; the async forms take it.
  Result<std::string> insert_json(std::string_view text, OpOptions options = {});
  Future<std::string> insert_json_async(std::string text, OpOptions options = {});
  Result<std::string> restore_json(std::string_view text, IfExists if_exists = IfExists::kFail,
                                   OpOptions options = {});
  Future<std::string> restore_json_async(std::string text, IfExists if_exists = IfExists::kFail,
                                         OpOptions options = {});
  // insert_json returning the stored document, like insert(): it parses the text into a json.
  Result<nlohmann::json> insert_json_document(std::string_view text, OpOptions options = {});

  // Binary content: one opaque body per record (an image, a PDF...), stored at its own key beside
  // the record (docs/storage-format.md), so it never mixes with the record's own body (body-only,
  // body-overflow) and list/page/count/query never see it. One pool op per call; ids are checked
  // like every call's (InvalidArgument). Content is not part of the document: update, patch,
  // replace and upsert keep it; remove() deletes it (after the record). One PUT holds the whole
  // body in memory (the S3 limit of a single PUT, 5 GiB, applies; no multipart upload).
  //   set_content: HEAD of the record (missing → NotFound, nothing written), PUT of the content
  //                (replacing any), HEAD of the record again: a remove() that raced with it has
  //                deleted the record, and then the content is deleted too and the call is
  //                NotFound — no content outlives its record. An empty content_type means
  //                application/octet-stream; it must be printable ASCII ("type/subtype", at most
  //                255 bytes), else InvalidArgument. Returns what was stored (size, type, ETag).
  //   get_content: one GET; no content (or no record) → NotFound "...: no content for record".
  //   has_content: one HEAD.
  //   delete_content: HEAD, DELETE; no content → NotFound (OK when an earlier attempt of the
  //                same call found it, like remove()).
  // Not transactional with the record: a crash between remove()'s two DELETEs leaves content no
  // record points to (invisible to reads of the resource; a later record with that id sees it).
  Result<ContentInfo> set_content(std::string_view id, std::string_view bytes,
                                  std::string_view content_type = kDefaultContentType, OpOptions options = {});
  Result<Content> get_content(std::string_view id, OpOptions options = {});
  Result<bool> has_content(std::string_view id, OpOptions options = {});
  Status delete_content(std::string_view id, OpOptions options = {});
  Future<ContentInfo> set_content_async(std::string id, std::string bytes,
                                        std::string content_type = std::string(kDefaultContentType),
                                        OpOptions options = {});
  Future<Content> get_content_async(std::string id, OpOptions options = {});

  // Bulk calls with backpressure; per-item results in input order.
  BulkResult insert_many(std::vector<nlohmann::json> docs, BulkOptions options = {});
  // insert_json of every text (one JSON object each): ItemResult::id is the record's id and
  // ItemResult::document stays null. The texts are read while the call runs.
  BulkResult insert_many_json(const std::vector<std::string_view>& texts, BulkOptions options = {});
  BulkResult get_many(const std::vector<std::string>& ids, BulkOptions options = {});
  BulkResult remove_many(const std::vector<std::string>& ids, BulkOptions options = {});

  // Reading many records: ids come from LIST (one pool op per page of 1,000 keys), documents
  // from one pool op each (with backpressure). list() is a scan() collected: with a limit it
  // reads `limit` documents, not the resource.
  Result<std::vector<std::string>> list_ids(ListOptions options = {});
  Result<std::vector<nlohmann::json>> list(ListOptions options = {});
  Result<Page> page(PageRequest request);
  Result<std::size_t> count(ListOptions options = {});
  // Streams records to `on_record` on the calling thread, in key order (UTF-8 byte order of ids),
  // without holding the resource in memory: ids come one LIST page (≤ 1,000 keys, one pool op) at a
  // time and documents from GETs (one pool op each) kept at most `window` ahead, so memory is one
  // page of keys plus `window` documents whatever the number of records. `on_record` returns
  // false to stop: scan then sends no further request, waits for the GETs already in flight (at
  // most the window) and discards them, and returns OK. A limited scan issues at most `limit`
  // GETs when every record read matches (a filter that rejects records makes it read on).
  // Records deleted between LIST and GET, and stale partition references, are skipped. Errors: the
  // first failed LIST or GET (scan stops), InvalidArgument for a malformed filter or partition.
  // list(), count() of a partition, query() and the CLI's list/query/export are scans.
  Status scan(ScanOptions options, const std::function<bool(nlohmann::json&)>& on_record);
  // The documents matching `filter` (in key order, `limit` at most: a scan with this filter, which
  // stops reading once `limit` documents matched), e.g.
  //   {"age": {"$gte": 30}, "status": {"$in": ["a", "b"]}, "profile.city": "Porto"}
  // Fields ANDed; several operators on one field ANDed; a bare value (or an object without '$'
  // keys) means $eq. Reads a partition when the filter fixes every field of one to a scalar by a
  // bare value or $eq (a string, boolean or integer: never null, a float or $in); otherwise scans.
  //   operator        operand                  matches when the field…
  //   $eq / $ne       any JSON                 equals / does not equal it (deep, numbers exactly)
  //   $gt $gte        number or string         orders after it: numbers with numbers (int64,
  //   $lt $lte                                 uint64, double compared exactly, integers as
  //                                            integers), strings with strings (UTF-8 byte order)
  //   $in / $nin      array                    equals one / none of the items
  //   $exists         true / false             is present (even null) / absent
  //   $prefix         string                   is a string starting with it
  // Type mismatch: false ($ne, $nin: true) — "30" never matches {"$gt": 5}; booleans only equal.
  // Missing field: only $ne, $nin and $exists:false match. Null operand ($eq/$ne/$in/$nin) means
  // "null or missing". Field "a.b": the top-level key "a.b" if present, else the path a → b.
  // Malformed filter → InvalidArgument naming field and operator: unknown operator, $in/$nin not
  // an array, $exists not a boolean, $prefix not a string, $gt… not a number or string (object,
  // array, null, boolean), operator and plain keys mixed ({"$gt": 1, "x": 2}), empty field name.
  Result<std::vector<nlohmann::json>> query(const nlohmann::json& filter, ListOptions options = {});

  // ---- Administration: truncate, upgrades, migrate (docs/database.md "Drop, truncate and migrate")
  struct RemoveAllResult {
    std::size_t deleted = 0;  // keys removed (records, partition references, every other key)
    std::size_t failed = 0;   // keys the store refused to remove (per-key DeleteObjects errors)
    Status first_error;       // the first of those, naming its key; OK when failed == 0
    // Records a concurrent writer stored while the sweep ran, found by one more LIST of the
    // records after it (resources with partitions only): kept, their partition references
    // restored (the sweep, records before references, may have removed them).
    std::size_t survivors = 0;
  };
  struct RemoveAllOptions {
    OpOptions op;
    // After each batch, on the calling thread: keys removed so far.
    std::function<void(std::size_t deleted)> on_progress;
  };
  // Deletes every object under the resource's root "<db prefix>resource=<name>/" (records,
  // partition references, any other sub-prefix): one LIST page (≤ 1,000 keys) and one
  // DeleteObjects of that page per pool operation, memory one page. The catalog entry stays: the
  // resource is empty, same schema. Keys the store refuses are counted in `failed` (first error
  // kept) and skipped — never silently dropped; a failed LIST or DeleteObjects request is the
  // returned Status. Not a fence: a record written by a concurrent writer while it runs may
  // survive (stop the writers first); such survivors are found by one more LIST of the records
  // after the sweep and keep their partition references (RemoveAllResult::survivors). Reads
  // deduplicated before it are not shared after it.
  Result<RemoveAllResult> remove_all(RemoveAllOptions options);
  Result<RemoveAllResult> remove_all();

  // Upgrade function of schema version `from_version` (see ResourceConfig::upgrades), for this
  // handle and its copies; replaces one given before; a null `fn` removes it. On every read (get,
  // get_many, list, page, query, and the read of update/patch/replace) a record stored under
  // version v < the current version is decoded with version v's layout and then passed through
  // upgrades[v], upgrades[v+1], …, upgrades[current-1]. A missing step passes the document on
  // unchanged (the current schema's defaults are applied when the record is next written, e.g.
  // by migrate(), not on read). A step that fails (or throws, or returns a non-object) fails the
  // read with its Status, context "upgrade <resource>/<id> from version N". The "id" stays the
  // record's. Thread-safe; a read in flight uses the set it started with.
  void set_upgrade(int from_version, std::function<Result<nlohmann::json>(nlohmann::json)> fn);

  struct MigrateResult {
    std::size_t scanned = 0;          // ids listed
    std::size_t migrated = 0;         // rewritten under the current version
    std::size_t already_current = 0;  // stored under the current version: untouched
    std::size_t raced = 0;            // changed by a concurrent writer after our read: its write
                                      // is kept, not rewritten (writers write the current version)
    std::size_t gone = 0;             // removed between LIST and read
    std::size_t failed = 0;           // could not be read, upgraded, validated or written
    Status first_error;               // the first failure, naming the id; OK when failed == 0
    std::string last_id;              // every id up to this one is settled: resume after it
    bool complete = false;            // false: stopped by on_page before the end
  };
  struct MigrateOptions {
    std::string start_after;          // an id: resume after it (MigrateResult::last_id)
    std::size_t page_size = 1000;     // ids per LIST page, 1..1000
    std::size_t max_in_flight = 0;    // record ops at once; 0 = 2 × pool concurrency
    OpOptions op;
    // After each page, on the calling thread, with the counts so far; false stops (resumable
    // from the result's last_id).
    std::function<bool(const MigrateResult& so_far)> on_page;
  };
  // Rewrites in place every record stored under a schema version older than the current one:
  // pages through the ids (one LIST page per pool op), reads each record (upgrades applied, as on
  // any read) and writes it back under the current version through the conditional write of
  // update() — If-Match on the ETag read, the current schema's validation and defaults, partition
  // references moved, updatedAt set when the resource keeps timestamps. One pool op per record,
  // max_in_flight at once: memory is one page plus the window. A record changed by a concurrent
  // writer after our read is left as that writer stored it (counted in `raced`). Per-record
  // failures are counted, never stop the run; a failed LIST is the returned Status.
  Result<MigrateResult> migrate(MigrateOptions options);
  Result<MigrateResult> migrate();

  struct State;  // implementation detail
  explicit Resource(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

}  // namespace s3db
