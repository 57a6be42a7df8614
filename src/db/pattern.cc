#include "db/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace s3db {

namespace {

// Per-thread scratch space: one match-data block (a search needs no captures, and a too-small
// ovector still reports a match), a match context with the limits, and a JIT stack.
class MatchScratch {
 public:
  MatchScratch()
      : data_(pcre2_match_data_create(1, nullptr)),
        context_(pcre2_match_context_create(nullptr)),
        jit_stack_(pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr)) {
    if (context_) {
      pcre2_set_match_limit(context_, CompiledPattern::kMatchLimit);
      pcre2_set_heap_limit(context_, CompiledPattern::kHeapLimitKiB);
      if (jit_stack_) pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
    }
  }
  ~MatchScratch() {
    pcre2_jit_stack_free(jit_stack_);
    pcre2_match_context_free(context_);
    pcre2_match_data_free(data_);
  }
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;

  bool ready() const noexcept { return data_ && context_; }
  pcre2_match_data* data() const noexcept { return data_; }
  pcre2_match_context* context() const noexcept { return context_; }

 private:
  pcre2_match_data* data_;
  pcre2_match_context* context_;
  pcre2_jit_stack* jit_stack_;
};

bool is_limit(int rc) {
  return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
         rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_NOMEMORY;
}

}  // namespace

Result<std::shared_ptr<const CompiledPattern>> CompiledPattern::compile(std::string_view source) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR text[256];
    pcre2_get_error_message(error, text, sizeof text);
    return Status::InvalidArgument("bad pattern", reinterpret_cast<const char*>(text) + std::string(" at offset ") +
                                                      std::to_string(offset));
  }
  // Without JIT support (or memory for it) PCRE2 falls back to its interpreter by itself.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return std::shared_ptr<const CompiledPattern>(new CompiledPattern(code));
}

CompiledPattern::~CompiledPattern() { pcre2_code_free(code_); }

CompiledPattern::Match CompiledPattern::search(std::string_view subject) const noexcept {
  thread_local MatchScratch scratch;
  if (!scratch.ready()) return Match::kLimit;
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  int rc = pcre2_match(code_, s, subject.size(), 0, 0, scratch.data(), scratch.context());
  // The JIT keeps its backtracking on a fixed stack; the interpreter keeps it on the heap, bounded
  // by the heap limit: a long but reasonable subject that outgrows the JIT stack gets a second try.
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    rc = pcre2_match(code_, s, subject.size(), 0, PCRE2_NO_JIT, scratch.data(), scratch.context());
  }
  if (rc >= 0) return Match::kYes;
  return is_limit(rc) ? Match::kLimit : Match::kNo;
}

}  // namespace s3db
