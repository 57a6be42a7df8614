// db/pattern.h — the compiled regular expression of a schema `pattern:` rule (PCRE2, UTF-8).
//
// Why PCRE2 and not std::regex: libstdc++'s std::regex matches by recursion on the machine stack
// (a long value overflows it and kills the process) and has no step limit (a catastrophic pattern
// runs for ever). PCRE2 matches on the heap with a step limit and a heap limit, and JIT-compiles.
//
// Contract
// - CompiledPattern::compile(source): InvalidArgument with PCRE2's message and the offset of the
//   error on a bad pattern. Syntax: Perl/PCRE2, close to JavaScript's RegExp; UTF-8 patterns.
// - search(subject) finds the pattern anywhere in `subject` (anchor with ^ and $), like JavaScript's
//   RegExp.test. Every match is bounded: more than kMatchLimit backtracking steps or kHeapLimitKiB
//   of backtracking memory → kLimit (the caller treats it as a failed rule). Invalid UTF-8 in the
//   subject is not an error: it simply matches no UTF-8 construct.
// - Thread safety: a compiled pattern is immutable and shared; scratch space is per thread.
#pragma once

#include "s3db/status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct pcre2_real_code_8;

namespace s3db {

class CompiledPattern {
 public:
  static constexpr std::uint32_t kMatchLimit = 1'000'000;
  static constexpr std::uint32_t kHeapLimitKiB = 20 * 1024;

  enum class Match : std::uint8_t { kYes, kNo, kLimit };

  static Result<std::shared_ptr<const CompiledPattern>> compile(std::string_view source);
  Match search(std::string_view subject) const noexcept;

  CompiledPattern(const CompiledPattern&) = delete;
  CompiledPattern& operator=(const CompiledPattern&) = delete;
  ~CompiledPattern();

 private:
  explicit CompiledPattern(pcre2_real_code_8* code) noexcept : code_(code) {}
  pcre2_real_code_8* code_;
};

}  // namespace s3db
