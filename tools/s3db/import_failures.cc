#include "import_failures.h"

#include "cli.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace s3db::cli {

ImportFailures::ImportFailures(std::string errors_path, ProgressBar& bar, std::size_t stderr_limit)
    : path_(std::move(errors_path)), bar_(bar), limit_(stderr_limit) {
  if (path_.empty()) return;
  file_.open(path_, std::ios::binary | std::ios::trunc);
  if (!file_) throw UsageError("cannot write --errors file '" + path_ + "': " + std::strerror(errno));
}

void ImportFailures::add(std::uint64_t line, const Status& why, std::string_view text, std::uint64_t bytes) {
  ++count_;
  const std::string_view code = code_name(why.code());
  if (count_ <= limit_) {
    bar_.clear();
    print_error(fmt::format("import line {}: {}", line, why.to_string()));
    listed_.push_back({{"line", line}, {"code", code}, {"error", why.message()}});
  }
  if (!file_.is_open()) return;
  nlohmann::json record = {{"line", line}, {"code", code}, {"error", why.message()}};
  if (bytes > 0) {
    record["text"] = nullptr;
    record["bytes"] = bytes;
  } else {
    record["text"] = text;
  }
  file_ << record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

std::string ImportFailures::summary(std::uint64_t lines) const {
  if (count_ == 0) return {};
  std::string where = path_.empty() ? "" : fmt::format("; every one is in '{}'", path_);
  if (count_ > limit_) {
    return fmt::format("import: {} of {} lines failed ({} listed above, {} not shown{})", count_,
                       lines, limit_, count_ - limit_,
                       path_.empty() ? "; --errors FILE writes them all" : where);
  }
  return fmt::format("import: {} of {} lines failed{}", count_, lines, where);
}

Status ImportFailures::close() {
  if (!file_.is_open()) return Status::OK();
  file_.flush();
  const bool ok = static_cast<bool>(file_);
  file_.close();
  if (!ok || file_.fail()) return Status::Internal("import", "writing the --errors file '" + path_ + "' failed");
  return Status::OK();
}

}  // namespace s3db::cli
