#include "db/text_write.h"

#include "db/ids.h"
#include "db/records.h"
#include "db/write_turns.h"

#include <atomic>

namespace s3db::db {

using nlohmann::json;

namespace {

std::atomic<std::uint64_t> g_one_pass{0};
std::atomic<std::uint64_t> g_dom{0};


// nlohmann's message says what and where; its prefix ("[json.exception.parse_error.101] ") is
// noise to a user.
std::string parse_error_text(const json::exception& e) {
  std::string msg = e.what();
  if (msg.rfind("[json.exception.", 0) == 0) {
    if (auto p = msg.find("] "); p != std::string::npos) msg.erase(0, p + 2);
  }
  return msg;
}

}  // namespace

Result<json> parse_document(std::string_view text, WriteKind kind, std::string_view resource) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error; out_of_range for a number like 1e400
    return Status::InvalidArgument(std::string(verb(kind)) + " " + std::string(resource),
                                   "not valid JSON: " + parse_error_text(e));
  }
}

TextWriteCounts text_write_counts() noexcept {
  return {g_one_pass.load(std::memory_order_relaxed), g_dom.load(std::memory_order_relaxed)};
}

TextWrite::TextWrite(std::shared_ptr<Resource::State> rs, WriteKind kind, std::string text, AttemptBudget budget)
    : rs_(std::move(rs)), kind_(kind), text_(std::move(text)) {
  state_.budget = budget;
  rec_.restoring = kind != WriteKind::kInsert;
}

Result<std::string> TextWrite::operator()(OpContext& ctx) {
  if (!not_json_.ok()) return not_json_;
  if (!prepared_) {
    rt_ = rs_->runtime();  // before anything can fail: what() needs it
    S3DB_RETURN_IF_ERROR(rs_->check_live());
    prepared_ = true;
    state_.base_known = true;  // a create assumes no record: If-None-Match decides
    if (hooks_of(*rs_) || !rt_->def.partitions.empty()) S3DB_RETURN_IF_ERROR(take_dom_path());
  }
  if (!dom_) {
    // The writers of some object queue (db/write_turns.h): the loop asks for our key before the
    // first build, so the id is needed before the pass that would find it.
    if (rec_.id.empty() && WriteTurns::any_open()) {
      rec_.id = find_text_id(text_);
      if (rec_.id.empty()) rec_.id = generate_id();
    }
    Status s = run_write(rs_->client().storage(), *this, state_, ctx);
    if (!declined_) {
      S3DB_RETURN_IF_ERROR(s);
      g_one_pass.fetch_add(1, std::memory_order_relaxed);
      return rec_.id;
    }
    S3DB_RETURN_IF_ERROR(take_dom_path());
  }
  auto r = (*dom_)(ctx);
  if (!r.ok()) return r.status();
  return r->at("id").get<std::string>();
}

Status TextWrite::take_dom_path() {
  g_dom.fetch_add(1, std::memory_order_relaxed);
  auto doc = parse_document(text_, kind_, rt_->def.name);
  if (!doc.ok()) return not_json_ = doc.status();
  std::string().swap(text_);
  dom_ = std::make_unique<RecordWrite>(rs_, kind_, std::move(doc).value(), state_.budget);
  return Status::OK();
}

Status TextWrite::final_status(Status s) const {
  if (dom_) return dom_->final_status(std::move(s));
  return db::final_status(state_, *this, std::move(s));
}

std::string TextWrite::generate_id() const {
  return rs_->id_generator ? rs_->id_generator() : random_id(rt_->def.id_size);
}

Target TextWrite::target() const {
  return kind_ == WriteKind::kRestoreReplace ? Target::kEither : Target::kCreate;
}

// What the loop needs of a stored record: its ETag and its write stamp (a replacing restore writes
// over it; an ambiguous write is judged by it).
Status TextWrite::read(Base& base, OpContext& ctx) {
  auto cur = read_record(*rs_, rec_.id, ctx);
  if (!cur.ok()) {
    if (!cur.status().is_not_found()) return cur.status();
    base = Base{};
    return Status::OK();
  }
  base.exists = true;
  base.etag = std::move(cur->etag);
  base.stamp = std::move(cur->stamp);
  return Status::OK();
}

Status TextWrite::build(const Base& /*base*/, const WriteStamp& stamp, PutRequest& put) {
  Encoded enc;
  auto pass = encode_text(text_, *rt_, rs_->db->box.get(), [this] { return generate_id(); }, stamp, rec_, enc);
  if (!pass.ok()) return pass.status();
  if (*pass == TextPass::kNeedsDom) {
    // Declined: only on the first build (nothing sent yet); a later one reads the same text with
    // the same runtime.
    declined_ = true;
    return Status::InvalidArgument(what(), "declined by the one-pass reader");  // never seen: the op takes the DOM path
  }
  put = record_put(*rt_, rec_.id, std::move(enc));
  return Status::OK();
}

Status TextWrite::landed(const WriteStamp&, std::string_view, OpContext&) { return Status::OK(); }

Status TextWrite::absent() { return Status::NotFound("resource " + rt_->def.name, "no record with id '" + rec_.id + "'"); }

std::string TextWrite::what() const {
  if (dom_) return dom_->what();
  return std::string(verb(kind_)) + " " + rt_->def.name + "/" + rec_.id;
}

std::string TextWrite::key() const {
  if (dom_) return dom_->key();
  return data_key(*rt_, rec_.id);
}

}  // namespace s3db::db
