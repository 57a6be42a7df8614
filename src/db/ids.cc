#include "db/ids.h"

#include "core/encoding.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>

namespace s3db::db {
namespace {

// Bumped in the child of every fork(). A forked child inherits the forking thread's generator
// state byte for byte: without a reseed, parent and children (and sibling children) would draw
// the same ids and write tokens.
std::atomic<std::uint64_t> fork_epoch{0};

void on_fork_child() noexcept { fork_epoch.fetch_add(1, std::memory_order_relaxed); }

// Counts seedings in this process, so that two generators seeded in the same instant differ even
// if the entropy source repeated itself.
std::atomic<std::uint64_t> seedings{0};

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256** (public-domain algorithm by Blackman and Vigna), re-implemented here.
struct Xoshiro {
  std::uint64_t s[4];
  std::uint64_t epoch = 0;  // fork_epoch when seeded
  Xoshiro() { seed(fork_epoch.load(std::memory_order_relaxed)); }
  // Kernel entropy (getrandom through std::random_device), mixed with what tells this process and
  // this seeding apart (pid, a per-process counter, the clock): unique even if entropy repeated.
  void seed(std::uint64_t current_epoch) {
    epoch = current_epoch;
    std::random_device rd;
    std::uint64_t mix = (std::uint64_t(static_cast<std::uint32_t>(::getpid())) << 32) ^
                        seedings.fetch_add(1, std::memory_order_relaxed) ^
                        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (auto& w : s) w = ((std::uint64_t{rd()} << 32) ^ rd()) ^ splitmix64(mix);
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 0x9E3779B97F4A7C15ull;
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

struct ForkHook {
  ForkHook() { ::pthread_atfork(nullptr, nullptr, on_fork_child); }
};

Xoshiro& rng() {
  static const ForkHook hook;  // registered once, before the first generator is used
  thread_local Xoshiro gen;
  const std::uint64_t epoch = fork_epoch.load(std::memory_order_relaxed);
  if (gen.epoch != epoch) [[unlikely]] gen.seed(epoch);  // first use in a forked child
  return gen;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::uint64_t random_u64() noexcept { return rng().next(); }

std::string random_id(int size) {
  std::string out(static_cast<std::size_t>(size < 1 ? 1 : size), '\0');
  auto& g = rng();
  std::uint64_t bits = 0;
  int left = 0;  // 6-bit groups left in `bits` (10 per 64-bit draw)
  for (char& c : out) {
    if (left == 0) { bits = g.next(); left = 10; }
    c = kAlphabet[bits & 63];
    bits >>= 6;
    --left;
  }
  // The first character is a letter or digit: an id that starts with '-' reads as an option to
  // every command-line tool (the s3db CLI included), and one that starts with '_' sorts apart.
  // Drawing from the 62 alphanumerics keeps 131.95 of the 132 random bits.
  out[0] = kAlphabet[g.next() % 62];
  return out;
}

Status check_id(std::string_view id) {
  if (id.empty()) return Status::InvalidArgument("invalid id", "empty");
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument("invalid id", "longer than 255 bytes");
  }
  if (id == "." || id == "..") return Status::InvalidArgument("invalid id", "'.' and '..' are not ids");
  for (char c : id) {
    if (c == '/') return Status::InvalidArgument("invalid id", "contains '/'");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return Status::InvalidArgument("invalid id", "contains a control character");
    }
  }
  if (!encoding::valid_utf8(id)) return Status::InvalidArgument("invalid id", "not valid UTF-8");
  // Code points that are invisible yet change what a terminal or log shows: C1 controls, line and
  // paragraph separators, and the bidirectional embeddings, overrides and isolates (an id could
  // otherwise display as another id, or reorder the text printed after it).
  for (std::size_t i = 0; i < id.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(id[i]);
    if (b0 == 0xC2 && i + 1 < id.size()) {
      const auto b1 = static_cast<unsigned char>(id[i + 1]);
      if (b1 >= 0x80 && b1 <= 0x9F) return Status::InvalidArgument("invalid id", "contains a C1 control character");
    } else if (b0 == 0xE2 && i + 2 < id.size()) {
      const auto b1 = static_cast<unsigned char>(id[i + 1]), b2 = static_cast<unsigned char>(id[i + 2]);
      const unsigned cp = 0x2000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);  // U+2000..U+2FFF
      if ((cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
        return Status::InvalidArgument("invalid id", "contains a line separator or a bidirectional control character");
      }
    }
  }
  return Status::OK();
}

}  // namespace s3db::db
