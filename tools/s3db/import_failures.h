// tools/s3db/import_failures.h — the failed lines of an import, named one by one.
//
// Contract
// - add(line, why, text): one failed line. The first `stderr_limit` are printed on stderr as they
//   happen, one line each ("s3db: import line N: <Code>: <message>"); with an errors file, EVERY
//   one is appended to it as a JSON Lines record
//     {"line": N, "code": "InvalidArgument", "error": "<message>", "text": "<the line>"}
//   ("text" is null for a line too long to keep, with "bytes" its length; invalid UTF-8 in a
//   line is written as U+FFFD), so the user can fix exactly those lines and import them again.
// - Lines are added in line order by the caller. The errors file is created (truncated) by the
//   constructor — UsageError when it cannot be (exit 2) — and written as failures arrive.
// - summary() is the closing stderr line ("" without failures); close() flushes the file and
//   returns a non-OK Status when any write to it failed (the caller reports it after its summary).
// - Not thread-safe: one thread adds.
#pragma once

#include "progress.h"

#include <s3db/status.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

namespace s3db::cli {

class ImportFailures {
 public:
  static constexpr std::size_t kStderrLimit = 20;

  ImportFailures(std::string errors_path, ProgressBar& bar, std::size_t stderr_limit = kStderrLimit);

  void add(std::uint64_t line, const Status& why, std::string_view text, std::uint64_t bytes = 0);
  std::uint64_t count() const noexcept { return count_; }
  // The listed failures (the first stderr_limit), for --json output.
  const nlohmann::json& listed() const noexcept { return listed_; }
  std::string summary(std::uint64_t lines) const;
  Status close();

 private:
  std::string path_;
  ProgressBar& bar_;
  std::size_t limit_;
  std::ofstream file_;
  std::uint64_t count_ = 0;
  nlohmann::json listed_ = nlohmann::json::array();
};

}  // namespace s3db::cli
