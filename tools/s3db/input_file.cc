#include "input_file.h"

#include "cli.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace s3db::cli {

InputFile InputFile::open(const std::string& path) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? "stdin" : "'" + path + "'";
  int fd = STDIN_FILENO;
  if (!is_stdin) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw UsageError("cannot open " + name + ": " + std::strerror(errno));
  }
  InputFile file(fd, !is_stdin, name, 0);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw UsageError("cannot open " + name + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw UsageError(name + " is a directory, not a file");
  if (S_ISREG(st.st_mode)) file.size_ = static_cast<std::uint64_t>(st.st_size);
  return file;
}

InputFile::InputFile(InputFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), owned_(std::exchange(other.owned_, false)),
      name_(std::move(other.name_)), size_(other.size_) {}

InputFile::~InputFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

ReadResult InputFile::read(char* buffer, std::size_t size, int stop_fd) {
  for (;;) {
    if (stop_fd >= 0) {
      // A regular file is always readable; a pipe or terminal may block here until either side
      // has something, so a Ctrl-C is seen even while nothing arrives.
      pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return {0, errno, false};
      }
      if ((fds[0].revents & POLLIN) != 0) return {0, 0, true};
    }
    const ssize_t n = ::read(fd_, buffer, size);
    if (n >= 0) return {static_cast<std::size_t>(n), 0, false};
    if (errno != EINTR) return {0, errno, false};
  }
}

bool InputFile::is_same_file(const std::string& path) const {
  struct stat mine {}, other {};
  return ::fstat(fd_, &mine) == 0 && ::stat(path.c_str(), &other) == 0 && mine.st_dev == other.st_dev &&
         mine.st_ino == other.st_ino;
}

std::string InputFile::read_all() {
  std::string out;
  char chunk[64 * 1024];
  for (;;) {
    ReadResult r = read(chunk, sizeof chunk);
    if (r.error != 0) check(Status::Internal("read " + name_, std::strerror(r.error)));
    if (r.bytes == 0) return out;
    out.append(chunk, r.bytes);
  }
}

}  // namespace s3db::cli
