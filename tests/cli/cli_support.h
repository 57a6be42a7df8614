// Helpers of the CLI tests: they run the built `s3db` binary as a user would and look at its exit
// code, stderr and (JSON) output. The binary is found relative to the test executable:
// <build>/tests/s3db_cli_tests → <build>/tools/s3db/s3db (or $S3DB_CLI). Multi-command round trips
// use file:// in a temporary directory, since every invocation is a new process and memory://
// data dies with it.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cli_test {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliRun {
  int code = -1;
  std::string out, err;
  long max_rss_kb = 0;  // the child's peak resident set
};

inline std::string cli_path() {
  if (const char* p = std::getenv("S3DB_CLI"); p && *p) return p;
  return (fs::read_symlink("/proc/self/exe").parent_path() / ".." / "tools" / "s3db" / "s3db").lexically_normal();
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "s3db-cli-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string url() const { return "file://" + path_.string() + "/db"; }

 private:
  fs::path path_;
};

// A running s3db: started by spawn(), ended by finish() (which waits for it).
struct Child {
  pid_t pid = -1;
  std::unique_ptr<TempDir> io;  // holds stdout and stderr
};

// Starts s3db with `args`, stdin from `stdin_fd` (closed in the child only), `env` entries set
// (empty value = unset). The child starts with default signal actions and no blocked signals,
// whatever the test runner set.
inline Child spawn(const std::vector<std::string>& args, int stdin_fd,
                   const std::map<std::string, std::string>& env = {}) {
  Child c;
  c.io = std::make_unique<TempDir>();
  const fs::path out = c.io->path() / "out", err = c.io->path() / "err";
  c.pid = ::fork();
  if (c.pid == 0) {
    int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600),
        fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(stdin_fd, 0); ::dup2(fo, 1); ::dup2(fe, 2);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::unsetenv("S3DB_URL");
    for (const auto& [k, v] : env) {
      if (v.empty()) ::unsetenv(k.c_str());
      else ::setenv(k.c_str(), v.c_str(), 1);
    }
    const std::string bin = cli_path();
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return c;
}

inline CliRun finish(Child& c) {
  int status = 0;
  rusage usage{};
  ::wait4(c.pid, &status, 0, &usage);
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(c.io->path() / "out");
  r.err = slurp(c.io->path() / "err");
  r.max_rss_kb = usage.ru_maxrss;
  return r;
}

// Runs s3db with `args` to its end; `input` becomes stdin.
inline CliRun run(const std::vector<std::string>& args, const std::string& input = "",
                  const std::map<std::string, std::string>& env = {}) {
  TempDir in_dir;
  const fs::path in = in_dir.path() / "in";
  { std::ofstream(in, std::ios::binary) << input; }
  const int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
  Child c = spawn(args, fd, env);
  ::close(fd);
  return finish(c);
}

inline std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// One clear line on stderr, recognisable as ours.
inline void expect_one_error_line(const CliRun& r) {
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("s3db: ", 0), 0u) << r.err;
}

// Every stderr line is one of ours ("s3db: ..."), and there are `n` of them.
inline void expect_error_lines(const CliRun& r, std::size_t n) {
  EXPECT_EQ(lines(r.err), n) << r.err;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) EXPECT_EQ(line.rfind("s3db: ", 0), 0u) << line;
}

inline const std::vector<std::string> kUserAttrs = {"--attr", "name=string|required", "--attr", "email=email",
                                                    "--attr", "age=integer|min:0", "--attr", "country=string"};

inline std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The ids stored in `resource` (via `s3db export`, the public way).
inline std::multiset<std::string> stored_ids(const std::string& url, const std::string& resource) {
  CliRun r = run({"--url", url, "export", resource});
  EXPECT_EQ(r.code, 0) << r.err;
  std::multiset<std::string> ids;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) ids.insert(json::parse(line)["id"].get<std::string>());
  return ids;
}

inline std::size_t stored_count(const std::string& url, const std::string& resource) {
  CliRun r = run({"--url", url, "--json", "count", resource});
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? json::parse(r.out)["count"].get<std::size_t>() : 0;
}

// Writes all of `data` to `fd` (a child's stdin pipe).
inline void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    ASSERT_GT(n, 0) << std::strerror(errno);
    done += static_cast<std::size_t>(n);
  }
}

// True once `child` has ended (it stays waitable: finish() still collects it).
inline bool exited(pid_t child) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

}  // namespace cli_test
