// Internal: the pool op behind every record write — insert, restore, upsert, update, patch and
// replace are one class, RecordWrite, differing only in WriteKind (what the write starts from and
// what it does to a stored record). Its storage side is db::run_write (db/write_loop.h): one
// conflict-retry loop and one "did my write land" judgement for all of them.
#pragma once

#include "db/state.h"
#include "db/write_loop.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace s3db::db {

enum class WriteKind : std::uint8_t {
  kInsert,          // create only; createdAt/updatedAt set now
  kRestore,         // create only; createdAt/updatedAt as given
  kUpsert,          // create, or replace the stored record keeping its createdAt
  kRestoreReplace,  // create, or replace the stored record; timestamps as given
  kUpdate,          // a mutation of the stored record (update, patch, replace)
};

// "insert", "restore", "upsert", "update": how messages name a write of that kind.
std::string_view verb(WriteKind k);

// fn(current stored document) → the next document. May run more than once (once per conflict).
using Mutation = std::function<Result<nlohmann::json>(nlohmann::json current)>;

class RecordWrite final : public WriteSteps {
 public:
  // Insert kinds: `doc` is the caller's document (its "id", or one is generated).
  RecordWrite(std::shared_ptr<Resource::State> rs, WriteKind kind, nlohmann::json doc, AttemptBudget budget);
  // kUpdate of record `id`.
  RecordWrite(std::shared_ptr<Resource::State> rs, std::string id, Mutation mutate, AttemptBudget budget);
  RecordWrite(RecordWrite&&) noexcept = default;
  // kUpdate: starts from a record the caller has just read (`base`: its ETag and stamp; `current`:
  // its document) instead of reading it again; the first write is conditional on that ETag.
  void start_from(Base base, nlohmann::json current);

  // The pool op: the stored document.
  Result<nlohmann::json> operator()(OpContext& ctx);
  // Its last word on a final failure (db::final_status): UnknownOutcome while a write is outstanding.
  Status final_status(Status s) const { return db::final_status(state_, *this, std::move(s)); }

  Target target() const override;
  Status read(Base& base, OpContext& ctx) override;
  Status build(const Base& base, const WriteStamp& stamp, PutRequest& put) override;
  Status landed(const WriteStamp& mine, std::string_view etag, OpContext& ctx) override;
  void keep_outstanding(const WriteStamp& mine) override;
  Status absent() override;
  std::string what() const override;
  std::string key() const override;

 private:
  Status prepare();
  Status set_timestamps(nlohmann::json& doc, bool overwrite, nlohmann::json created) const;
  // Hooks (db/hooks.h): the before-hooks of one attempt's build, and what a success tells.
  Status run_before_hooks(bool replacing);
  void notify_written();

  std::shared_ptr<Resource::State> rs_;
  WriteKind kind_;
  bool prepared_ = false;
  std::string id_;
  nlohmann::json given_;  // insert kinds: the caller's document, id and timestamps set
  Mutation mutate_;       // kUpdate
  WriteState state_;
  HooksPtr hooks_;  // this call's hooks and listeners, taken at its start (null: none)
  const Runtime* rt_ = nullptr;  // Resource::State::runtime(): lives as long as rs_
  nlohmann::json current_;  // the stored record of the latest read (null: absent)
  // The latest build: its document (a create writes given_), its token, and the partition
  // references of the record it replaces.
  nlohmann::json next_;
  bool built_create_ = false;
  bool built_next_ = false;      // the build wrote next_ (else given_)
  nlohmann::json built_before_;  // with hooks: the record the build replaces (null: a create)
  std::string built_token_;
  std::vector<std::string> before_;
  // Builds whose write failed ambiguously (what landed() needs if one turns out stored).
  struct Kept {
    std::string token;
    nlohmann::json doc;
    std::vector<std::string> before;
    bool create = false;
    nlohmann::json before_doc;
  };
  std::vector<Kept> kept_;
  nlohmann::json result_;
  bool landed_create_ = false;
  nlohmann::json landed_before_;
};

}  // namespace s3db::db
