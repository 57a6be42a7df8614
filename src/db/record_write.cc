#include "db/record_write.h"

#include "db/ids.h"
#include "db/records.h"
#include "db/text.h"

namespace s3db::db {

using nlohmann::json;

namespace {

constexpr const char* kTimestampFields[] = {"createdAt", "updatedAt"};

bool restoring(WriteKind k) { return k == WriteKind::kRestore || k == WriteKind::kRestoreReplace; }

}  // namespace

std::string_view verb(WriteKind k) {
  switch (k) {
    case WriteKind::kInsert: return "insert";
    case WriteKind::kRestore: case WriteKind::kRestoreReplace: return "restore";
    case WriteKind::kUpsert: return "upsert";
    case WriteKind::kUpdate: return "update";
  }
  return "write";
}

RecordWrite::RecordWrite(std::shared_ptr<Resource::State> rs, WriteKind kind, json doc, AttemptBudget budget)
    : rs_(std::move(rs)), kind_(kind), given_(std::move(doc)) {
  state_.budget = budget;
  hooks_ = hooks_of(*rs_);
}

RecordWrite::RecordWrite(std::shared_ptr<Resource::State> rs, std::string id, Mutation mutate, AttemptBudget budget)
    : rs_(std::move(rs)), kind_(WriteKind::kUpdate), id_(std::move(id)), mutate_(std::move(mutate)) {
  state_.budget = budget;
  hooks_ = hooks_of(*rs_);
}

Result<json> RecordWrite::operator()(OpContext& ctx) {
  if (!prepared_) S3DB_RETURN_IF_ERROR(prepare());
  S3DB_RETURN_IF_ERROR(run_write(rs_->client().storage(), *this, state_, ctx));
  if (hooks_) notify_written();
  return std::move(result_);
}

// Picks the id (the caller's "id", the resource's generator, or a random one) and sets the
// timestamps of a new document. Runs once per op: its retries write the same document.
Status RecordWrite::prepare() {
  rt_ = rs_->runtime();  // before anything can fail: key() and what() need it
  S3DB_RETURN_IF_ERROR(rs_->check_live());
  if (kind_ == WriteKind::kUpdate) {
    S3DB_RETURN_IF_ERROR(check_id(id_).with_context("resource " + rt_->def.name));
    prepared_ = true;
    return Status::OK();
  }
  const std::string context = std::string(verb(kind_)) + " " + rt_->def.name;
  if (!given_.is_object()) return Status::InvalidArgument(context, "the document is not a JSON object");
  auto it = given_.find("id");
  if (it != given_.end() && !it->is_null()) {
    if (!it->is_string()) return Status::InvalidArgument(context, "id must be a string");
    id_ = it->get<std::string>();
  } else {
    id_ = rs_->id_generator ? rs_->id_generator() : random_id(rt_->def.id_size);
    given_["id"] = id_;
  }
  S3DB_RETURN_IF_ERROR(check_id(id_).with_context(context));
  S3DB_RETURN_IF_ERROR(set_timestamps(given_, false, json()));
  if (hooks_ && kind_ == WriteKind::kInsert) S3DB_RETURN_IF_ERROR(run_before_insert(*hooks_, given_, id_, what()));
  // A create assumes no record (If-None-Match decides): no read first. Except an upsert with hooks:
  // it reads first, to run the hooks of what it will do (insert or update).
  state_.base_known = !(hooks_ && kind_ == WriteKind::kUpsert);
  prepared_ = true;
  return Status::OK();
}

// Sets createdAt/updatedAt of a document about to be written, when the resource keeps timestamps:
// a restore keeps valid ones as given; otherwise a create gets both now, and an overwrite keeps the
// stored record's createdAt (`created`; none when it had none) and gets updatedAt now.
Status RecordWrite::set_timestamps(json& doc, bool overwrite, json created) const {
  if (!rt_->def.timestamps) return Status::OK();
  if (restoring(kind_)) {
    std::string now;
    for (const char* field : kTimestampFields) {
      auto it = doc.find(field);
      if (it == doc.end() || it->is_null()) {
        if (now.empty()) now = now_iso8601();
        doc[field] = now;
      } else if (!it->is_string() || !valid_date(it->get_ref<const std::string&>())) {
        return Status::InvalidArgument("restore " + rt_->def.name + "/" + id_,
                                       std::string(field) + " is not an ISO 8601 date");
      }
    }
    return Status::OK();
  }
  std::string now = now_iso8601();
  if (overwrite) {
    doc.erase("createdAt");
    if (!created.is_null()) doc["createdAt"] = std::move(created);
  } else {
    doc["createdAt"] = now;
  }
  doc["updatedAt"] = std::move(now);
  return Status::OK();
}

void RecordWrite::start_from(Base base, json current) {
  state_.base = std::move(base);
  state_.base_known = true;
  current_ = std::move(current);
}

Target RecordWrite::target() const {
  switch (kind_) {
    case WriteKind::kInsert: case WriteKind::kRestore: return Target::kCreate;
    case WriteKind::kUpdate: return Target::kOverwrite;
    default: return Target::kEither;
  }
}

Status RecordWrite::read(Base& base, OpContext& ctx) {
  auto cur = read_record(*rs_, id_, ctx);
  if (!cur.ok()) {
    if (!cur.status().is_not_found()) return cur.status();
    base = Base{};
    current_ = json();
    return Status::OK();
  }
  base.exists = true;
  base.etag = std::move(cur->etag);
  base.stamp = std::move(cur->stamp);
  current_ = std::move(cur->doc);
  return Status::OK();
}

Status RecordWrite::build(const Base& base, const WriteStamp& stamp, PutRequest& put) {
  // A newer schema version may have been read since prepare() (by a read of this op or another
  // handle): take it for every write after the first.
  if (base.exists || state_.conflicts > 0 || !kept_.empty()) rt_ = rs_->runtime();
  json* doc = &given_;
  built_create_ = !base.exists;
  built_next_ = base.exists;
  before_.clear();
  if (base.exists) {
    before_ = partition_keys(*rt_, current_, id_);
    json created;
    if (auto it = current_.find("createdAt"); it != current_.end()) created = *it;
    if (kind_ == WriteKind::kUpdate) {
      // A copy: a retry of this attempt (a Throttled PUT: nothing read again) builds from it again.
      auto next = mutate_(current_);
      if (!next.ok()) return next.status();
      next_ = std::move(next).value();
      if (!next_.is_object()) return Status::InvalidArgument(what(), "not a JSON object");
      if (auto it = next_.find("id"); it != next_.end() && *it != json(id_)) {
        return Status::InvalidArgument(what(), "the id cannot be changed");
      }
      next_["id"] = id_;
      S3DB_RETURN_IF_ERROR(set_timestamps(next_, true, std::move(created)));
    } else {  // upsert / restore with replace: the caller's document over the stored one
      next_ = given_;
      S3DB_RETURN_IF_ERROR(set_timestamps(next_, true, std::move(created)));
    }
    doc = &next_;
  } else if (hooks_ && kind_ == WriteKind::kUpsert) {  // hooks change a copy: given_ stays the caller's
    next_ = given_;
    built_next_ = true;
    doc = &next_;
  }
  S3DB_RETURN_IF_ERROR(run_before_hooks(base.exists));
  auto p = prepare_put(*rs_, *rt_, *doc, id_, stamp);
  if (!p.ok()) return p.status();
  put = std::move(p).value();
  built_token_ = stamp.token;
  return Status::OK();
}

// The before-hooks of one build (insert's ran once, in prepare(); restore runs none). With hooks,
// the record replaced is kept for the after-hooks and the event.
Status RecordWrite::run_before_hooks(bool replacing) {
  if (!hooks_) return Status::OK();
  built_before_ = replacing ? current_ : json();
  if (restoring(kind_)) return Status::OK();
  if (replacing) return run_before_update(*hooks_, current_, next_, id_, what());
  if (kind_ == WriteKind::kUpsert) return run_before_insert(*hooks_, next_, id_, what());
  return Status::OK();
}

void RecordWrite::keep_outstanding(const WriteStamp& mine) {
  kept_.push_back(Kept{mine.token, built_next_ ? next_ : given_, before_, built_create_, built_before_});
}

Status RecordWrite::landed(const WriteStamp& mine, std::string_view /*etag*/, OpContext& ctx) {
  json* doc = built_next_ ? &next_ : &given_;
  const std::vector<std::string>* before = &before_;
  landed_create_ = built_create_;
  json* before_doc = &built_before_;
  if (mine.token != built_token_) {  // an earlier, ambiguous write turned out to be stored
    for (Kept& k : kept_) {
      if (k.token == mine.token) {
        doc = &k.doc;
        before = &k.before;
        landed_create_ = k.create;
        before_doc = &k.before_doc;
      }
    }
  }
  S3DB_RETURN_IF_ERROR(move_refs(*rs_, *rt_, id_, *before, partition_keys(*rt_, *doc, id_), ctx));
  result_ = std::move(*doc);
  landed_before_ = std::move(*before_doc);
  return Status::OK();
}

// Once per successful call (the op's last attempt): after-hooks and the event.
void RecordWrite::notify_written() {
  after_write(*rs_->db, hooks_, landed_create_ ? ResourceEventKind::kInserted : ResourceEventKind::kUpdated,
              !restoring(kind_), id_, std::move(landed_before_), result_);
}

Status RecordWrite::absent() {
  return Status::NotFound("resource " + rt_->def.name, "no record with id '" + id_ + "'");
}

std::string RecordWrite::what() const {
  return std::string(verb(kind_)) + " " + rt_->def.name + "/" + id_;
}

std::string RecordWrite::key() const { return data_key(*rt_, id_); }

}  // namespace s3db::db
