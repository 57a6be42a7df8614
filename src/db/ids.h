// Internal: record ids — fast random generation and validation of caller-supplied ids.
#pragma once

#include <s3db/status.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace s3db::db {

inline constexpr std::size_t kMaxIdBytes = 255;

// `size` characters from the URL-safe alphabet [A-Za-z0-9_-] (6 bits each), drawn from a
// thread-local xoshiro256** generator seeded once per thread from std::random_device (mixed with
// the pid and a per-process counter) and reseeded in the child after fork(): no system call per
// id, and no two processes or threads share a sequence. 22 characters = 132 random bits. The first character is always [A-Za-z0-9], so a
// generated id never looks like a command-line option.
std::string random_id(int size = 22);

// 64 random bits from the same thread-local generator.
std::uint64_t random_u64() noexcept;

// OK, or InvalidArgument naming why: empty, longer than kMaxIdBytes, contains '/', a control
// character (C0, DEL, C1), a line/paragraph separator (U+2028/9), a bidirectional embedding,
// override or isolate (U+202A..E, U+2066..9), or invalid UTF-8, or is "." / "..". Everything else
// is an id, '=' and '%' and "id=" included.
Status check_id(std::string_view id);

}  // namespace s3db::db
