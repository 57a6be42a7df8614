// tools/s3db/input_file.h — a file named on the command line ("-" = stdin), read with read(2) so
// that a read error is an error (iostreams turn it into a silent end of file).
//
// Contract
// - open(path): a path that cannot be opened, or that is a directory (stdin included), throws
//   UsageError naming it and the reason (exit 2). The file is closed by the destructor (stdin is
//   left open).
// - read(): waits until the input is readable or `stop_fd` (when >= 0, e.g. StopSignals::fd())
//   is; a readable stop_fd wins and gives ReadResult::stop. EINTR is retried.
// - read_all(): the whole content; OpError naming the file on a read error.
// - name() is "'path'" or "stdin", for messages; size() the bytes of a regular file, else 0.
// - is_same_file(path): whether `path` names this very file (so an output would overwrite it).
// - Not thread-safe; move-only.
#pragma once

#include "line_reader.h"

#include <cstdint>
#include <string>

namespace s3db::cli {

class InputFile {
 public:
  static InputFile open(const std::string& path);
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  ReadResult read(char* buffer, std::size_t size, int stop_fd = -1);
  std::string read_all();
  const std::string& name() const noexcept { return name_; }
  std::uint64_t size() const noexcept { return size_; }
  bool is_same_file(const std::string& path) const;

 private:
  InputFile(int fd, bool owned, std::string name, std::uint64_t size)
      : fd_(fd), owned_(owned), name_(std::move(name)), size_(size) {}
  int fd_;
  bool owned_;
  std::string name_;
  std::uint64_t size_;
};

}  // namespace s3db::cli
