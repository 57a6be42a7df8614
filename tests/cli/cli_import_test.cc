// `s3db import` says the truth: input that cannot be read is an error, every failed line is named
// (and written to --errors), SIGINT/SIGTERM drain and name the line to resume from, re-importing
// an export is idempotent with --on-conflict, timestamps survive export → import, and a line over
// --max-line-bytes is refused without being read whole.
#include "cli/cli_support.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

using namespace cli_test;

namespace {

const std::vector<std::string> kNameOnly = {"--attr", "name=string|required"};

// Lines {"id":"<prefix><i>","name":"n<i>"} for i in [first, last].
std::string numbered_lines(int first, int last, const std::string& prefix = "i") {
  std::string out;
  for (int i = first; i <= last; ++i)
    out += "{\"id\":\"" + prefix + std::to_string(i) + "\",\"name\":\"n" + std::to_string(i) + "\"}\n";
  return out;
}

std::multiset<std::string> numbered_ids(int first, int last, const std::string& prefix = "i") {
  std::multiset<std::string> ids;
  for (int i = first; i <= last; ++i) ids.insert(prefix + std::to_string(i));
  return ids;
}

// Polls `s3db count` until the resource holds at least `n` records; false if the child ended
// first or after a generous bound (a safety stop, not a speed assumption).
bool wait_for_count(const std::string& url, const std::string& resource, std::size_t n, pid_t child) {
  for (int i = 0; i < 3000; ++i) {
    if (stored_count(url, resource) >= n) return true;
    if (exited(child)) return false;  // it ended: there is nothing to signal
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST(CliImport, DirectoryOrUnopenableInputIsAUsageErrorNamingIt) {
  TempDir d;
  ASSERT_EQ(run(cat({"--url", d.url(), "create-resource", "users"}, kNameOnly)).code, 0);
  const std::string dir = d.path().string();
  CliRun r = run({"--url", d.url(), "import", "users", dir});
  EXPECT_EQ(r.code, 2) << r.out;  // before the fix: "imported 0 documents", exit 0
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("'" + dir + "' is a directory"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  const std::string missing = (d.path() / "nope.jsonl").string();
  CliRun m = run({"--url", d.url(), "import", "users", missing});
  EXPECT_EQ(m.code, 2);
  expect_one_error_line(m);
  EXPECT_NE(m.err.find("cannot open '" + missing + "': No such file"), std::string::npos) << m.err;

  // stdin that is a directory, too.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  Child c = spawn({"--url", d.url(), "import", "users", "-"}, dir_fd);
  ::close(dir_fd);
  CliRun s = finish(c);
  EXPECT_EQ(s.code, 2) << s.out;
  EXPECT_NE(s.err.find("stdin is a directory"), std::string::npos) << s.err;
}

// stdin is a TCP connection: 100 lines arrive, then the peer resets the connection. The read
// error is an error (exit 1, naming stdin and the last line stored), not an end of file.
TEST(CliImport, ReadErrorPartWayIsAnErrorNamingTheLineToResumeFrom) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kNameOnly)).code, 0);

  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(server, 0);
  ::close(listener);

  Child c = spawn({"--url", url, "--json", "import", "users", "-"}, client);
  ::close(client);
  write_all(server, numbered_lines(1, 100));
  const bool stored = wait_for_count(url, "users", 100, c.pid);  // all read, all stored
  linger reset{1, 0};
  ::setsockopt(server, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(server);  // RST: the child's next read fails with ECONNRESET
  CliRun r = finish(c);
  ASSERT_TRUE(stored) << r.err;

  EXPECT_EQ(r.code, 1) << r.out << r.err;  // before the fix: exit 0, as if the input had ended
  json j = json::parse(r.out);
  EXPECT_EQ(j["imported"], 100);
  EXPECT_EQ(j["last_line"], 100);
  EXPECT_EQ(j["resume_from_line"], 101);
  EXPECT_TRUE(j["read_error"].is_string()) << j;
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("read error on stdin after line 100"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--from-line 101"), std::string::npos) << r.err;
}

TEST(CliImport, EveryFailedLineIsNamedAndWrittenToTheErrorsFile) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kNameOnly)).code, 0);
  // 30 good lines; lines 3, 6, 9, ... 75 are bad in three ways (25 bad lines in all).
  std::string input;
  std::map<int, std::string> bad;
  for (int line = 1, good = 0; line <= 75; ++line) {
    const std::string n = std::to_string(line);
    std::string text;
    if (line % 3 != 0) {
      text = "{\"id\":\"g" + std::to_string(++good) + "\",\"name\":\"ok\"}";
    } else {
      if (line % 9 == 0) text = R"({"id":"b)" + n + "\"}";  // no name: the library refuses
      else if (line % 2 == 0) text = json::array({line}).dump();  // not an object
      else text = R"({"id": broken )" + n;                         // not JSON
      bad[line] = text;
    }
    input += text + "\n";
  }
  ASSERT_EQ(bad.size(), 25u);
  const fs::path errors = d.path() / "errors.jsonl";
  CliRun r = run({"--url", url, "--json", "import", "users", "-", "--errors", errors.string()}, input);
  EXPECT_EQ(r.code, 1) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["imported"], 50);
  EXPECT_EQ(j["errors"], 25);
  ASSERT_EQ(j["failed"].size(), 20u);  // the listed ones: the first 20

  // stderr: the first 20 failed lines by number, then one summary line with the count.
  expect_error_lines(r, 21);
  int listed = 0;
  for (const auto& [line, text] : bad) {
    const bool shown = r.err.find("import line " + std::to_string(line) + ": ") != std::string::npos;
    EXPECT_EQ(shown, listed < 20) << line << "\n" << r.err;
    ++listed;
  }
  EXPECT_NE(r.err.find("25 of 75 lines failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("5 not shown"), std::string::npos) << r.err;

  // The errors file: every failed line, in order, with its reason and its original text.
  std::istringstream file(slurp(errors));
  auto expected = bad.begin();
  std::string fixed;
  for (std::string rec; std::getline(file, rec); ++expected) {
    ASSERT_NE(expected, bad.end()) << "more records than failed lines: " << rec;
    json e = json::parse(rec);
    EXPECT_EQ(e["line"], expected->first);
    EXPECT_EQ(e["text"], expected->second);
    EXPECT_EQ(e["code"], "InvalidArgument") << e;
    EXPECT_FALSE(e["error"].get<std::string>().empty());
    fixed += "{\"id\":\"fixed" + std::to_string(expected->first) + "\",\"name\":\"now valid\"}\n";
  }
  EXPECT_EQ(expected, bad.end()) << "a failed line is missing from the errors file";

  // The errors file may not be the input (it would be truncated), and a failed write to it is
  // an error, not a silently incomplete list.
  const fs::path input_file = d.path() / "input.jsonl";
  { std::ofstream(input_file, std::ios::binary) << input; }
  CliRun same = run({"--url", url, "import", "users", input_file.string(), "--errors", input_file.string()});
  EXPECT_EQ(same.code, 2);
  expect_one_error_line(same);
  EXPECT_EQ(slurp(input_file), input);
  CliRun full = run({"--url", url, "import", "users", "-", "--errors", "/dev/full", "--on-conflict", "skip"}, input);
  EXPECT_EQ(full.code, 1);
  EXPECT_NE(full.err.find("writing the --errors file '/dev/full' failed"), std::string::npos) << full.err;

  // Fixing exactly those lines and importing them again completes the data set.
  CliRun again = run({"--url", url, "--json", "import", "users", "-"}, fixed);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(stored_count(url, "users"), 75u);
}

// SIGTERM while stdin (a pipe, never closed by the writer) is being imported: the import cannot
// end by itself, so only the signal ends it. Everything up to the printed line is stored,
// nothing after it; resuming from the next line stores every line exactly once.
TEST(CliImport, SigtermOnAPipeDrainsAndNamesTheLineToResumeFrom) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kNameOnly)).code, 0);
  const std::string all = numbered_lines(1, 1000);
  ASSERT_LT(all.size(), 65536u);  // fits the pipe: the writes below never block
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  Child c = spawn({"--url", url, "--json", "import", "users", "-"}, pipe_fds[0]);
  ::close(pipe_fds[0]);
  write_all(pipe_fds[1], all);
  const bool started = wait_for_count(url, "users", 50, c.pid);
  ::kill(c.pid, SIGTERM);
  CliRun r = finish(c);
  ::close(pipe_fds[1]);
  ASSERT_TRUE(started) << r.err;

  EXPECT_EQ(r.code, 143) << r.out << r.err;  // before the fix: killed by the signal, no report
  json j = json::parse(r.out);
  EXPECT_EQ(j["interrupted"], "SIGTERM");
  const int last = j["last_line"].get<int>();
  EXPECT_GE(last, 50);
  EXPECT_EQ(j["resume_from_line"], last + 1);
  EXPECT_EQ(j["imported"], last);
  EXPECT_NE(r.err.find("--from-line " + std::to_string(last + 1)), std::string::npos) << r.err;
  EXPECT_EQ(stored_ids(url, "users"), numbered_ids(1, last));

  TempDir f;
  const fs::path file = f.path() / "all.jsonl";
  { std::ofstream(file, std::ios::binary) << all; }
  CliRun resumed = run({"--url", url, "--json", "import", "users", file.string(), "--from-line",
                        std::to_string(last + 1)});
  ASSERT_EQ(resumed.code, 0) << resumed.err;  // no AlreadyExists: nothing before the line is repeated
  EXPECT_EQ(json::parse(resumed.out)["imported"], 1000 - last);
  EXPECT_EQ(stored_ids(url, "users"), numbered_ids(1, 1000));
}

// Ctrl-C (SIGINT) part-way through a large file, then --from-line: every line stored exactly once.
TEST(CliImport, SigintOnALargeFileThenFromLineStoresEveryLineOnce) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kNameOnly)).code, 0);
  constexpr int kLines = 5000;
  const fs::path file = d.path() / "large.jsonl";
  { std::ofstream(file, std::ios::binary) << numbered_lines(1, kLines); }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  Child c = spawn({"--url", url, "import", "users", file.string()}, devnull);
  ::close(devnull);
  const bool started = wait_for_count(url, "users", 50, c.pid);
  ::kill(c.pid, SIGINT);
  CliRun r = finish(c);
  ASSERT_TRUE(started) << r.err;
  ASSERT_EQ(r.code, 130) << r.out << r.err;

  expect_one_error_line(r);
  const std::string marker = "every line up to ";
  const auto at = r.err.find(marker);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_NE(r.err.find("interrupted by SIGINT"), std::string::npos) << r.err;
  const int last = std::stoi(r.err.substr(at + marker.size()));
  ASSERT_GE(last, 50);
  ASSERT_LT(last, kLines);
  EXPECT_EQ(stored_ids(url, "users"), numbered_ids(1, last));

  CliRun resumed = run({"--url", url, "import", "users", file.string(), "--from-line", std::to_string(last + 1)});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(stored_ids(url, "users"), numbered_ids(1, kLines));
}

TEST(CliImport, ReimportingAnExportFollowsOnConflict) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kNameOnly)).code, 0);
  ASSERT_EQ(run({"--url", url, "import", "users", "-"}, numbered_lines(1, 10)).code, 0);
  const fs::path dump = d.path() / "users.jsonl";
  ASSERT_EQ(run({"--url", url, "export", "users", dump.string()}).code, 0);
  ASSERT_EQ(run({"--url", url, "update", "users", "i3", R"({"name":"changed"})"}).code, 0);

  // Default (fail): every existing id is a failed line, nothing is overwritten.
  CliRun fail = run({"--url", url, "--json", "import", "users", dump.string()});
  EXPECT_EQ(fail.code, 1);
  json fj = json::parse(fail.out);
  EXPECT_EQ(fj["imported"], 0);
  EXPECT_EQ(fj["errors"], 10);
  EXPECT_EQ(fj["failed"][0]["code"], "AlreadyExists");
  EXPECT_EQ(json::parse(run({"--url", url, "--json", "get", "users", "i3"}).out)["name"], "changed");

  // skip: counted as skipped, not failed; exit 0; nothing overwritten.
  CliRun skip = run({"--url", url, "--json", "import", "users", dump.string(), "--on-conflict", "skip"});
  EXPECT_EQ(skip.code, 0) << skip.err;
  json sj = json::parse(skip.out);
  EXPECT_EQ(sj["skipped"], 10);
  EXPECT_EQ(sj["errors"], 0);
  EXPECT_TRUE(skip.err.empty()) << skip.err;
  CliRun skip_text = run({"--url", url, "import", "users", dump.string(), "--on-conflict", "skip"});
  EXPECT_NE(skip_text.out.find("10 skipped"), std::string::npos) << skip_text.out;
  EXPECT_EQ(json::parse(run({"--url", url, "--json", "get", "users", "i3"}).out)["name"], "changed");

  // replace: the export wins again; still exactly ten records.
  CliRun replace = run({"--url", url, "--json", "import", "users", dump.string(), "--on-conflict", "replace"});
  EXPECT_EQ(replace.code, 0) << replace.err;
  EXPECT_EQ(json::parse(replace.out)["imported"], 10);
  EXPECT_EQ(json::parse(run({"--url", url, "--json", "get", "users", "i3"}).out)["name"], "n3");
  EXPECT_EQ(stored_ids(url, "users"), numbered_ids(1, 10));

  CliRun bad = run({"--url", url, "import", "users", dump.string(), "--on-conflict", "merge"});
  EXPECT_EQ(bad.code, 2);
  expect_one_error_line(bad);
}

// createdAt/updatedAt survive export → import into another resource, byte for byte.
TEST(CliImport, ExportThenImportKeepsTimestamps) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users", "--timestamps"}, kNameOnly)).code, 0);
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "copy", "--timestamps"}, kNameOnly)).code, 0);
  for (const char* doc : {R"({"id":"a","name":"Ann"})", R"({"id":"b","name":"Bob"})", R"({"id":"c","name":"Cid"})"})
    ASSERT_EQ(run({"--url", url, "insert", "users", doc}).code, 0);
  ASSERT_EQ(run({"--url", url, "update", "users", "b", R"({"name":"Bobby"})"}).code, 0);
  const fs::path original = d.path() / "users.jsonl", copied = d.path() / "copy.jsonl";
  ASSERT_EQ(run({"--url", url, "export", "users", original.string()}).code, 0);
  ASSERT_EQ(lines(slurp(original)), 3u);

  CliRun imported = run({"--url", url, "import", "copy", original.string()});
  ASSERT_EQ(imported.code, 0) << imported.err;
  ASSERT_EQ(run({"--url", url, "export", "copy", copied.string()}).code, 0);
  EXPECT_EQ(slurp(copied), slurp(original));  // before the fix: both timestamps were "now"
}

TEST(CliImport, LineEndingsEmptyLinesAndALastLineWithoutNewline) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kNameOnly)).code, 0);
  const std::string input = "{\"id\":\"a\",\"name\":\"A\"}\r\n\r\n\n{\"id\":\"b\",\"name\":\"B\"}\r\n{oops\r\n"
                            "{\"id\":\"c\",\"name\":\"C\"}";
  CliRun r = run({"--url", url, "--json", "import", "users", "-"}, input);
  EXPECT_EQ(r.code, 1) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["imported"], 3);
  EXPECT_EQ(j["last_line"], 6);
  ASSERT_EQ(j["failed"].size(), 1u);
  EXPECT_EQ(j["failed"][0]["line"], 5);
  EXPECT_EQ(stored_ids(url, "users"), (std::multiset<std::string>{"a", "b", "c"}));
}

// A 64 MiB line over a 1 MiB cap: refused with its line number, the next line imported, and the
// process's peak memory nowhere near the line's size.
TEST(CliImport, OverlongLineIsRefusedWithoutBeingReadWhole) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kNameOnly)).code, 0);
  CliRun small = run({"--url", url, "import", "users", "-"}, numbered_lines(1, 2, "s"));
  ASSERT_EQ(small.code, 0) << small.err;

  constexpr std::size_t kLong = 64u << 20;
  const fs::path file = d.path() / "long.jsonl";
  {
    std::ofstream out(file, std::ios::binary);
    out << numbered_lines(1, 1) << "{\"id\":\"long\",\"name\":\"";
    const std::string chunk(1 << 20, 'x');
    for (std::size_t i = 0; i < kLong / chunk.size(); ++i) out << chunk;
    out << "\"}\n" << numbered_lines(3, 3);
  }
  const fs::path errors = d.path() / "errors.jsonl";
  CliRun r = run({"--url", url, "--json", "import", "users", file.string(), "--max-line-bytes", "1048576",
                  "--errors", errors.string()});
  EXPECT_EQ(r.code, 1) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["imported"], 2);
  ASSERT_EQ(j["failed"].size(), 1u);
  EXPECT_EQ(j["failed"][0]["line"], 2);
  EXPECT_NE(r.err.find("import line 2: InvalidArgument: line too long"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--max-line-bytes 1048576"), std::string::npos) << r.err;
  json rec = json::parse(slurp(errors));
  EXPECT_TRUE(rec["text"].is_null());
  EXPECT_GT(rec["bytes"].get<std::size_t>(), kLong);
  EXPECT_EQ(stored_ids(url, "users"), (std::multiset<std::string>{"s1", "s2", "i1", "i3"}));
  // Before the fix the whole line was read into one string (≥ 64 MiB more than a small import).
  EXPECT_LT(r.max_rss_kb, small.max_rss_kb + 24 * 1024) << "peak RSS " << r.max_rss_kb << " kB";

  CliRun zero = run({"--url", url, "import", "users", file.string(), "--max-line-bytes", "0"});
  EXPECT_EQ(zero.code, 2);
}
