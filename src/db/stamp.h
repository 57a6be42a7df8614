// Internal: the write stamp — what makes every s3db write of an object unique and ordered.
//
// Every record and catalog write stores a stamp in the object's body: a token drawn for that write
// alone and the object's sequence number (1 for a create, the previous number + 1 for each
// conditional overwrite). The stamp
// - changes the body, hence the ETag, on every write, so If-Match detects every concurrent writer
//   even when all fields live in metadata;
// - makes the chain of an object's states free of ABA: every committed overwrite was conditional
//   on the state before it, so sequence numbers strictly grow along the chain and no state can
//   come back to an earlier body (and ETag) even if two tokens ever collided;
// - lets a writer whose request failed ambiguously decide from the stored object alone whether
//   its write landed (db/write_loop.h), without trusting ETag = MD5 or comparing metadata. For
//   that it also carries the first kHistoryChars characters of the tokens of the kHistory states
//   before it (newest first): a writer whose write was overwritten since (the object moved on by
//   a few writes, as it does under contention) can still find out whether it was ever stored.
//
// Text form: "<kTokenChars random base64url characters>.<seq in base 36>[,<prefix>...]". Bodies
// written before sequence numbers existed hold only "<token>": they parse with seq 0.
// Where it lives: a body without fields is "~" + text; a JSON body (records with fields in the
// body, and s3db.json) has it as the string member "w-".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3db::db {

// Body member of the stamp (a '-' keeps it apart from attribute short keys, which are base 36).
inline constexpr std::string_view kStampKey = "w-";
// Random characters of a token: 84 bits.
inline constexpr int kTokenChars = 14;
// Earlier states remembered by a stamp, and the characters kept of each token (48 bits: two
// writers racing for one state are told apart with certainty short of 2^-48).
inline constexpr std::size_t kHistory = 8;
inline constexpr std::size_t kHistoryChars = 8;

struct WriteStamp {
  std::string token;      // empty: no stamp (not an s3db body, or unreadable)
  std::uint64_t seq = 0;  // 0: written before sequence numbers (or no stamp)
  std::string history;    // "<prefix of the token of seq-1>,<of seq-2>,..." (at most kHistory)

  // Whether the state `back` writes before this one (1 = the previous state) had a token starting
  // like `token`: true/false, or nullopt when the history does not reach that far.
  std::optional<bool> had_token(std::uint64_t back, std::string_view token) const;

  // A stamp for a new write: a fresh token; seq 1 for a create (previous null), else previous + 1.
  static WriteStamp next(const WriteStamp* previous);
  // Parses the text form; an empty token when malformed.
  static WriteStamp parse(std::string_view text);
  std::string text() const;
  void append_text(std::string& out) const;  // text() without a string of its own
  std::size_t text_size() const noexcept;

  friend bool operator==(const WriteStamp&, const WriteStamp&) = default;
};

// The stamp stored in an s3db body of either form; an empty token when there is none.
WriteStamp stamp_of_body(std::string_view body);

}  // namespace s3db::db
