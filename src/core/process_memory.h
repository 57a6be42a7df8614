// Internal: how much memory this process uses, and how much it may use — the inputs of the
// pool's memory-based start value and of the note tuner's memory-pressure rule.
//
// Linux only (/proc, /sys/fs/cgroup); elsewhere, or when a file cannot be read, 0 = unknown.
// The limit is the tightest of: the cgroup's (v2 memory.max, v1 memory.limit_in_bytes; "max" and
// the v1 "no limit" sentinel mean none) and the machine's MemTotal — a container that may use
// 512 MiB of a 64 GiB host is under pressure at 400 MiB. Thread-safe; no allocation per call
// besides the file reads' own.
#pragma once

#include <cstdint>
#include <string_view>

namespace s3db::core {

std::uint64_t resident_bytes() noexcept;      // /proc/self/statm: resident pages × page size
std::uint64_t memory_limit_bytes() noexcept;  // see above; read on each call (limits can change)

// Parsers, exposed for tests: a cgroup limit file ("max\n" or a byte count) and /proc/meminfo's
// MemTotal line (kB). 0 when absent or unparseable.
std::uint64_t parse_cgroup_limit(std::string_view text) noexcept;
std::uint64_t parse_mem_total(std::string_view meminfo) noexcept;

}  // namespace s3db::core
