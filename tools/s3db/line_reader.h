// tools/s3db/line_reader.h — splits a byte stream into numbered lines, with a cap on line length.
//
// Contract
// - next() returns the input's lines in order, numbered from 1, as kLine: the text without its
//   line end ("\n", or "\r\n" — a "\r" elsewhere is kept). Empty lines are lines too; a final line
//   without a line end is a line; an input ending with "\n" has no extra empty line after it.
// - A line whose text is longer than max_line_bytes is never held whole: once it passes the cap
//   its bytes are read and dropped up to the next "\n", and next() returns kTooLong with its
//   number and its length. Memory: the read buffer plus at most about 2 × max_line_bytes.
// - The read function reports bytes, the end of input (0 bytes), an error (errno), or a stop
//   request. On kError (the error number; the line being read is lost) and kStopped (a partial
//   line is dropped) the reader is finished: every later next() returns kEnd. kEnd forever after
//   the end of input too.
// - number() is the number of the last line returned: every line up to it has been handed out.
//   consumed() is the bytes read so far (for progress).
// - Not thread-safe: one thread reads. Text views are valid until the next call of next().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::cli {

struct ReadResult {
  std::size_t bytes = 0;  // 0 with no error and no stop = end of input
  int error = 0;          // errno of a failed read
  bool stop = false;      // the caller asked to stop (e.g. SIGINT)
};

class LineReader {
 public:
  using ReadFn = std::function<ReadResult(char* buffer, std::size_t size)>;

  enum class Kind { kLine, kTooLong, kEnd, kError, kStopped };
  struct Line {
    Kind kind = Kind::kEnd;
    std::uint64_t number = 0;   // kLine, kTooLong: this line; otherwise number()
    std::string_view text;      // kLine only
    std::uint64_t length = 0;   // kLine, kTooLong: bytes of the line without its "\n"
    int error = 0;              // kError only
  };

  static constexpr std::size_t kDefaultBufferBytes = 64 * 1024;

  LineReader(ReadFn read, std::size_t max_line_bytes, std::size_t buffer_bytes = kDefaultBufferBytes);

  Line next();
  std::uint64_t number() const noexcept { return number_; }
  std::uint64_t consumed() const noexcept { return consumed_; }

 private:
  Line finish_line(std::uint64_t length, bool too_long);

  ReadFn read_;
  std::size_t max_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
  std::string line_;
  std::uint64_t number_ = 0, consumed_ = 0;
  bool finished_ = false;
};

}  // namespace s3db::cli
