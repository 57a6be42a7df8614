#include "core/process_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace s3db::core {

namespace {

// Reads up to sizeof(buf) - 1 bytes of a small /proc or /sys file; returns the bytes read.
std::string_view read_small(const char* path, char* buf, std::size_t size) noexcept {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const ssize_t n = ::read(fd, buf, size - 1);
  ::close(fd);
  return n > 0 ? std::string_view(buf, static_cast<std::size_t>(n)) : std::string_view{};
}

std::uint64_t leading_number(std::string_view s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() ? v : 0;
}

// cgroup v1 reports "no limit" as a huge page-aligned number near INT64_MAX.
constexpr std::uint64_t kNoLimitAbove = std::uint64_t{1} << 60;

}  // namespace

std::uint64_t parse_cgroup_limit(std::string_view text) noexcept {
  if (text.substr(0, 3) == "max") return 0;
  const std::uint64_t v = leading_number(text);
  return v >= kNoLimitAbove ? 0 : v;
}

std::uint64_t parse_mem_total(std::string_view meminfo) noexcept {
  const auto at = meminfo.find("MemTotal:");
  if (at == std::string_view::npos) return 0;
  return leading_number(meminfo.substr(at + 9)) * 1024;
}

std::uint64_t resident_bytes() noexcept {
  char buf[128];
  std::string_view s = read_small("/proc/self/statm", buf, sizeof buf);
  const auto space = s.find(' ');  // "size resident shared ..." in pages
  if (space == std::string_view::npos) return 0;
  return leading_number(s.substr(space + 1)) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t memory_limit_bytes() noexcept {
  char buf[4096];
  std::uint64_t limit = parse_mem_total(read_small("/proc/meminfo", buf, sizeof buf));
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    const std::uint64_t cg = parse_cgroup_limit(read_small(path, buf, sizeof buf));
    if (cg != 0) limit = limit == 0 ? cg : std::min(limit, cg);
  }
  return limit;
}

}  // namespace s3db::core
