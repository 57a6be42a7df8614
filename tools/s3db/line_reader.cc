#include "line_reader.h"

#include <cstring>

namespace s3db::cli {

LineReader::LineReader(ReadFn read, std::size_t max_line_bytes, std::size_t buffer_bytes)
    : read_(std::move(read)), max_(max_line_bytes), buffer_(buffer_bytes == 0 ? 1 : buffer_bytes) {}

LineReader::Line LineReader::next() {
  if (finished_) return {Kind::kEnd, number_, {}, 0, 0};
  line_.clear();
  std::uint64_t length = 0;  // bytes of this line so far, line end excluded
  bool started = false, too_long = false;
  for (;;) {
    if (pos_ == end_) {
      ReadResult r = read_(buffer_.data(), buffer_.size());
      if (r.stop || r.error != 0 || r.bytes == 0) {
        finished_ = true;
        if (r.stop) return {Kind::kStopped, number_, {}, 0, 0};
        if (r.error != 0) return {Kind::kError, number_, {}, 0, r.error};
        if (!started) return {Kind::kEnd, number_, {}, 0, 0};
        return finish_line(length, too_long);  // a final line without "\n"
      }
      pos_ = 0;
      end_ = r.bytes;
      consumed_ += r.bytes;
    }
    started = true;
    const char* from = buffer_.data() + pos_;
    const auto* newline = static_cast<const char*>(std::memchr(from, '\n', end_ - pos_));
    const std::size_t n = newline != nullptr ? static_cast<std::size_t>(newline - from) : end_ - pos_;
    length += n;
    // One byte of slack for the "\r" of a "\r\n" line end, checked again in finish_line.
    if (!too_long && length > max_ + 1) {
      too_long = true;
      line_.clear();
      line_.shrink_to_fit();  // the cap bounds memory, not just what is kept
    }
    if (!too_long) line_.append(from, n);
    pos_ += n;
    if (newline != nullptr) {
      ++pos_;
      return finish_line(length, too_long);
    }
  }
}

LineReader::Line LineReader::finish_line(std::uint64_t length, bool too_long) {
  ++number_;
  if (!too_long && !line_.empty() && line_.back() == '\r') line_.pop_back();
  if (too_long || line_.size() > max_) return {Kind::kTooLong, number_, {}, length, 0};
  return {Kind::kLine, number_, line_, length, 0};
}

}  // namespace s3db::cli
