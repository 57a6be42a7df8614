// Internal: the pool op behind Resource::insert_json and restore_json (and their async and bulk
// forms) — a record write given as JSON text. Its steps encode the text in one pass
// (db/text_record.h) on the loop every record write runs (db/write_loop.h). A text the pass
// declines, and every write of a resource with hooks or partitions (they work on the document),
// is parsed into a json and handed to RecordWrite: then rules, errors and stored bytes are those
// of insert(json) / restore(json) by construction, and the one pass only has to agree with them
// on what it accepts (tests/db/insert_json_test.cc compares both paths byte for byte).
#pragma once

#include "db/record_write.h"
#include "db/text_record.h"

#include <memory>
#include <string>

namespace s3db::db {

class TextWrite final : public WriteSteps {
 public:
  // `kind`: kInsert, kRestore or kRestoreReplace.
  TextWrite(std::shared_ptr<Resource::State> rs, WriteKind kind, std::string text, AttemptBudget budget);
  TextWrite(TextWrite&&) noexcept = default;

  // The pool op: the id of the record written.
  Result<std::string> operator()(OpContext& ctx);
  Status final_status(Status s) const;
  // Which path the op took (tests): true once the text went to RecordWrite.
  bool took_dom_path() const noexcept { return dom_ != nullptr; }

  Target target() const override;
  Status read(Base& base, OpContext& ctx) override;
  Status build(const Base& base, const WriteStamp& stamp, PutRequest& put) override;
  Status landed(const WriteStamp& mine, std::string_view etag, OpContext& ctx) override;
  void keep_outstanding(const WriteStamp&) override {}  // every build writes the same record
  Status absent() override;
  std::string what() const override;
  std::string key() const override;

 private:
  // Parses the text and hands the write to RecordWrite (InvalidArgument when it is not JSON).
  Status take_dom_path();
  std::string generate_id() const;

  std::shared_ptr<Resource::State> rs_;
  WriteKind kind_;
  std::string text_;
  WriteState state_;
  const Runtime* rt_ = nullptr;  // taken once (every attempt encodes the same record); lives as long as rs_
  TextRecord rec_;
  bool prepared_ = false;
  bool declined_ = false;  // the one pass declined the text (before anything was sent)
  Status not_json_;        // the text is not JSON: the op's answer, every time it is asked
  // Out of line: the op stays small enough for the pool's recycled task memory (512 bytes).
  std::unique_ptr<RecordWrite> dom_;
};

// `text` parsed into the document of an insert or restore of `resource`; InvalidArgument "not
// valid JSON: <nlohmann's position and reason>" otherwise.
Result<nlohmann::json> parse_document(std::string_view text, WriteKind kind, std::string_view resource);

// Counts, per process, of the writes from text that took each path (tests and benchmarks).
struct TextWriteCounts {
  std::uint64_t one_pass = 0;
  std::uint64_t dom = 0;
};
TextWriteCounts text_write_counts() noexcept;

}  // namespace s3db::db
