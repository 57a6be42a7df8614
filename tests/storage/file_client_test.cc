#include "storage/file_client.h"

#include "s3db/connection.h"
#include "s3db/storage_client.h"
#include "storage/file_format.h"
#include "storage/s3/digest.h"
#include "support/test_env.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

namespace s3db {
namespace {

namespace stdfs = std::filesystem;
using namespace std::chrono_literals;

// Bounds every wait on another process: only reached when something hangs.
constexpr auto kHangBound = 20s;

// A forked child process running `body` (its exit code is body's result), with a one-byte pipe
// each way. Parent side: send(), receive(), wait(); child side (inside body): tell(), await().
// The destructor kills a child that was not waited for, so a failed test never leaves one behind.
class Child {
 public:
  explicit Child(const std::function<int(Child&)>& body) {
    int down[2], up[2];
    if (::pipe(down) != 0 || ::pipe(up) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(down[1]);
      ::close(up[0]);
      in_ = down[0];
      out_ = up[1];
      ::_exit(body(*this));
    }
    ::close(down[0]);
    ::close(up[1]);
    out_ = down[1];
    in_ = up[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
  }
  bool started() const { return pid_ > 0; }

  // Parent → child, and child → parent.
  void send(char c) { (void)!::write(out_, &c, 1); }
  void tell(char c) { send(c); }
  // The next byte from the other side, or nullopt when none came `within` (or the pipe closed).
  std::optional<char> receive(std::chrono::milliseconds within = kHangBound) {
    struct pollfd p{in_, POLLIN, 0};
    int ready = 0;
    do { ready = ::poll(&p, 1, static_cast<int>(within.count())); } while (ready < 0 && errno == EINTR);
    char c = 0;
    if (ready <= 0 || ::read(in_, &c, 1) != 1) return std::nullopt;
    return c;
  }
  char await() { return receive().value_or('\0'); }
  // The child's exit code (-1 when it did not exit normally).
  int wait() {
    int status = 0;
    const pid_t pid = pid_;
    pid_ = -1;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
};

// Exit codes of the children below.
constexpr int kDone = 0, kPreconditionFailed = 1, kFailed = 2;
int exit_code(const Status& s) { return s.ok() ? kDone : s.is_precondition_failed() ? kPreconditionFailed : kFailed; }

PutRequest req(std::string key, std::string body, Metadata md = {}) {
  PutRequest r;
  r.key = std::move(key);
  r.body = std::move(body);
  r.metadata = std::move(md);
  return r;
}

class FileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = stdfs::temp_directory_path() / ("s3db-fs-test-" + testing::run_id() + "-" + std::to_string(n_++));
  }
  void TearDown() override { stdfs::remove_all(root_); }

  std::unique_ptr<StorageClient> open() {
    auto c = make_file_client(root_.string());
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : stdfs::directory_iterator(root_ / "objects")) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> keys(StorageClient& c) {
    ListRequest l;
    auto r = c.list(l, ctx_);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    std::vector<std::string> out;
    if (r.ok()) for (const auto& m : r->objects) out.push_back(m.key);
    return out;
  }
  // A pid that certainly belongs to no running process: a child that has exited and been reaped.
  static pid_t dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
  }

  stdfs::path root_;
  OpContext ctx_;
  static inline int n_ = 0;
};

TEST_F(FileClientTest, PersistsAcrossReopen) {
  PutResult put;
  std::int64_t mtime = 0;
  {
    auto c = open();
    PutRequest r = req("users/id=1", "{\"name\":\"ada\"}", {{"Role", "admin"}, {"utf8", "ünï"}});
    r.content_type = "application/json";
    auto p = c->put(r, ctx_);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    put = *p;
    mtime = c->head("users/id=1", ctx_)->last_modified_ms;
    EXPECT_EQ(c->kind(), "file");
    EXPECT_EQ(c->describe(), "file://" + root_.string());
  }
  auto c = open();
  auto got = c->get("users/id=1", ctx_);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, "{\"name\":\"ada\"}");
  EXPECT_EQ(got->meta.etag, put.etag);
  EXPECT_EQ(got->meta.content_type, "application/json");
  EXPECT_EQ(got->meta.metadata, (Metadata{{"role", "admin"}, {"utf8", "ünï"}}));
  EXPECT_EQ(got->meta.last_modified_ms, mtime);
  EXPECT_EQ(keys(*c), std::vector<std::string>{"users/id=1"});
}

TEST_F(FileClientTest, OpenedThroughAConnectionString) {
  auto opts = ConnectionOptions::FromUri("file://" + root_.string());
  ASSERT_TRUE(opts.ok());
  auto c = make_storage_client(*opts);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ((*c)->kind(), "file");
  ASSERT_TRUE((*c)->put(req("k", "v"), ctx_).ok());
  EXPECT_EQ(open()->get("k", ctx_)->body, "v");
}

TEST_F(FileClientTest, TempFilesOfDeadWritersAreCleanedOnOpenAndNeverListed) {
  { auto c = open(); ASSERT_TRUE(c->put(req("real", "v"), ctx_).ok()); }
  // A crash mid-write leaves a temp file (partial content), never a partial object.
  const std::string stale = ".tmp-" + std::to_string(dead_pid()) + "-7";
  const std::string live = ".tmp-" + std::to_string(::getpid()) + "-999999";
  std::ofstream(root_ / "objects" / stale) << "s3db-object 1\n12\n3:abc,";
  std::ofstream(root_ / "objects" / ".tmp-garbage") << "x";
  std::ofstream(root_ / "objects" / live) << "s3db-object 1\n";
  auto c = open();
  const auto names = files();
  EXPECT_EQ(std::count(names.begin(), names.end(), stale), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), ".tmp-garbage"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), live), 1);  // a live writer's file is left alone
  EXPECT_EQ(keys(*c), std::vector<std::string>{"real"});
}

TEST_F(FileClientTest, NoTempFilesLeftAfterWrites) {
  auto c = open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c->put(req("k" + std::to_string(i % 5), "v"), ctx_).ok());
  for (const auto& n : files()) EXPECT_FALSE(n.starts_with(".")) << n;
  EXPECT_EQ(files().size(), 5u);
}

TEST_F(FileClientTest, CorruptFileIsAnErrorNotACrash) {
  auto c = open();
  ASSERT_TRUE(c->put(req("k", "v"), ctx_).ok());
  std::ofstream(root_ / "objects" / storage::file_format::file_name_for("k"), std::ios::trunc) << "garbage";
  auto got = c->get("k", ctx_);
  EXPECT_EQ(got.status().code(), Code::kInternal) << got.status().to_string();
  EXPECT_EQ(c->head("k", ctx_).status().code(), Code::kInternal);
}

TEST_F(FileClientTest, AwkwardKeysMapToFlatSafeNames) {
  auto c = open();
  const std::string long_key = std::string("long/") + std::string(300, 'x') + "/é";  // encodes > 240 bytes
  const std::vector<std::string> ks = {".hidden", "..", ".", "a/../b", "with space", "~tilde", "%41", long_key,
                                       "UPPER", "upper"};
  for (const auto& k : ks) ASSERT_TRUE(c->put(req(k, "body:" + k), ctx_).ok()) << k;
  for (const auto& n : files()) {
    EXPECT_EQ(n.find('/'), std::string::npos) << n;
    EXPECT_FALSE(n.starts_with(".")) << n;
    EXPECT_LE(n.size(), 241u) << n;
  }
  auto want = ks;
  std::sort(want.begin(), want.end());
  auto c2 = open();  // names decode back to keys after a reopen, hashed ones through their header
  EXPECT_EQ(keys(*c2), want);
  for (const auto& k : ks) EXPECT_EQ(c2->get(k, ctx_)->body, "body:" + k) << k;
  ListRequest l;
  l.prefix = "long/";
  auto r = c2->list(l, ctx_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_EQ(r->objects[0].key, long_key);
  EXPECT_EQ(r->objects[0].size, long_key.size() + 5);
}

TEST_F(FileClientTest, OnlyTheNameTheStoreWritesForAKeyIsThatKey) {
  for (const std::string& k : std::vector<std::string>{"A", ".x", "x.y", "a/b", "~", "%41", "é", std::string(1, '\0')}) {
    EXPECT_EQ(storage::file_format::key_from_file_name(storage::file_format::file_name_for(k)), k) << k;
  }
  auto c = open();
  ASSERT_TRUE(c->put(req("A", "v"), ctx_).ok());
  // The object's file copied under other spellings: escaped unreserved bytes ("%41" is "A",
  // "x%2Ey" is "x.y"), lower-case hex, a raw byte the store escapes. None is listed: get() of
  // the key such a name spells would open another file (it used to list "A" twice, and "x.y").
  for (const char* other : {"%41", "x%2Ey", "a%2fb", "t~", "sp ace"}) {
    stdfs::copy_file(root_ / "objects" / "A", root_ / "objects" / other);
    EXPECT_EQ(storage::file_format::key_from_file_name(other), std::nullopt) << other;
  }
  EXPECT_EQ(keys(*open()), std::vector<std::string>{"A"});
}

TEST_F(FileClientTest, RootThatIsAFileIsRejected) {
  stdfs::create_directories(root_);
  std::ofstream(root_ / "plain") << "x";
  auto c = make_file_client((root_ / "plain").string());
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << c.status().to_string();
}

// Many writers of one key (whether readers see whole objects is a conformance test): every temp
// file is renamed or removed, none is left behind.
TEST_F(FileClientTest, ConcurrentWritersOfOneKeyLeaveNoTempFiles) {
  auto c = open();
  std::atomic<int> write_errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      OpContext ctx;
      for (int i = 0; i < 30; ++i) write_errors += c->put(req("hot", std::to_string(w * 100 + i)), ctx).ok() ? 0 : 1;
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_EQ(files().size(), 1u);
}

// Read-modify-write with If-Match from 8 threads: no increment is lost, which needs the
// check-and-replace of a conditional put to be atomic.
TEST_F(FileClientTest, ConditionalIncrementsFromManyThreadsLoseNothing) {
  auto c = open();
  ASSERT_TRUE(c->put(req("counter", "0"), ctx_).ok());
  constexpr int kThreads = 8, kIncrements = 15;
  std::atomic<int> gave_up{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      OpContext ctx;
      for (int i = 0; i < kIncrements; ++i) {
        bool ok = false;
        for (int attempt = 0; attempt < 10000 && !ok; ++attempt) {
          auto cur = c->get("counter", ctx);
          if (!cur.ok()) continue;
          PutRequest r = req("counter", std::to_string(std::stoi(cur->body) + 1));
          r.if_match = cur->meta.etag;
          auto s = c->put(r, ctx);
          ok = s.ok();
          if (!ok && !s.status().is_precondition_failed()) break;
        }
        if (!ok) gave_up++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(gave_up.load(), 0);
  EXPECT_EQ(c->get("counter", ctx_)->body, std::to_string(kThreads * kIncrements));
}

// What another process does to key "k" while a conditional writer holds it.
enum class Rival { kRemove, kRemoveMany, kPut, kCopy };

// Process A's If-Match put of "k" (against the ETag it read) is held inside its critical section:
// condition checked, rename not yet done. Process B then mutates "k". B must wait for A: if B's
// mutation landed first, A's rename — checked against the old ETag — would undo B's acknowledged
// delete or overwrite its acknowledged write, an outcome no serial order of A and B gives.
void conditional_writer_against(const stdfs::path& root, Rival rival) {
  storage::FileClientOptions plain;
  plain.fsync = false;  // durability is not what this test is about
  OpContext ctx;
  std::string etag;
  {
    auto c = storage::make_file_client(root.string(), plain);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    etag = (*c)->put(req("k", "v0"), ctx)->etag;
    ASSERT_TRUE((*c)->put(req("src", "copied"), ctx).ok());
  }
  Child writer([&](Child& self) {
    storage::FileClientOptions held = plain;
    held.before_commit_for_test = [&self](std::string_view key) {
      if (key != "k") return;
      self.tell('P');  // holding k's lock, condition passed
      self.await();    // until the parent lets go
    };
    auto c = storage::make_file_client(root.string(), held);
    if (!c.ok()) return kFailed;
    PutRequest r = req("k", "from-writer");
    r.if_match = etag;
    OpContext ctx;
    return exit_code((*c)->put(r, ctx).status());
  });
  Child other([&](Child& self) {
    self.await();
    auto c = storage::make_file_client(root.string(), plain);
    if (!c.ok()) return kFailed;
    OpContext ctx;
    Status s;
    switch (rival) {
      case Rival::kRemove: s = (*c)->remove("k", ctx); break;
      case Rival::kRemoveMany: {
        auto r = (*c)->remove_many({"a", "k", "z"}, ctx);
        s = !r.ok() ? r.status() : r->failed.empty() ? Status::OK() : r->failed.front().second;
        break;
      }
      case Rival::kPut: s = (*c)->put(req("k", "from-rival"), ctx).status(); break;
      case Rival::kCopy: {
        CopyRequest cr;
        cr.source_key = "src";
        cr.dest_key = "k";
        s = (*c)->copy(cr, ctx).status();
        break;
      }
    }
    self.tell('D');
    return exit_code(s);
  });
  ASSERT_TRUE(writer.started() && other.started());
  ASSERT_EQ(writer.receive(), std::optional<char>('P')) << "the writer never reached its commit";
  other.send('G');
  // The rival must now block on k's lock. Without the lock it finishes at once; give it ample time
  // to show that (a blocked rival makes this wait its full length, which only costs time).
  const bool rival_finished_while_held = other.receive(500ms).has_value();
  writer.send('G');
  EXPECT_EQ(writer.wait(), kDone);
  if (!rival_finished_while_held) {
    EXPECT_EQ(other.receive(), std::optional<char>('D')) << "the rival never finished";
  }
  EXPECT_EQ(other.wait(), kDone);
  EXPECT_FALSE(rival_finished_while_held) << "another process mutated k while a conditional put held it";

  // Both were acknowledged, so the only serial order is writer then rival: the rival's effect stands.
  auto c = storage::make_file_client(root.string(), plain);
  ASSERT_TRUE(c.ok());
  auto got = (*c)->get("k", ctx);
  switch (rival) {
    case Rival::kRemove:
    case Rival::kRemoveMany:
      EXPECT_TRUE(got.status().is_not_found()) << "an acknowledged delete was undone; k = " << (got.ok() ? got->body : got.status().to_string());
      break;
    case Rival::kPut:
      EXPECT_EQ(got.ok() ? got->body : got.status().to_string(), "from-rival");
      break;
    case Rival::kCopy:
      EXPECT_EQ(got.ok() ? got->body : got.status().to_string(), "copied");
      break;
  }
}

TEST_F(FileClientTest, DeleteInAnotherProcessWaitsForAConditionalWriterAndIsNotUndone) {
  conditional_writer_against(root_, Rival::kRemove);
}

TEST_F(FileClientTest, DeleteManyInAnotherProcessWaitsForAConditionalWriterAndIsNotUndone) {
  conditional_writer_against(root_, Rival::kRemoveMany);
}

TEST_F(FileClientTest, PutInAnotherProcessWaitsForAConditionalWriterAndIsNotOverwritten) {
  conditional_writer_against(root_, Rival::kPut);
}

TEST_F(FileClientTest, CopyInAnotherProcessWaitsForAConditionalWriterAndIsNotOverwritten) {
  conditional_writer_against(root_, Rival::kCopy);
}

// The same race without any pause point, as it happens in the field: in each round one process
// updates k with If-Match (the ETag of the round's version) while another deletes it. The delete's
// delay tracks the boundary between "delete first" (the update fails its If-Match) and "update
// first" (both acknowledged, k gone), which is where the writer's check-then-rename lies, so the
// race is hit whatever the machine's speed. When both are acknowledged, k must be gone.
TEST_F(FileClientTest, ConditionalUpdatesRacingDeletesInAnotherProcessNeverResurrectTheKey) {
  constexpr int kRounds = 3000;
  storage::FileClientOptions plain;
  plain.fsync = false;
  auto c = storage::make_file_client(root_.string(), plain);
  ASSERT_TRUE(c.ok());
  Child writer([&](Child& self) {
    auto mine = storage::make_file_client(root_.string(), plain);
    if (!mine.ok()) return kFailed;
    OpContext ctx;
    for (int round = 0; round < kRounds; ++round) {
      if (self.await() != 'G') return kFailed;
      PutRequest r = req("k", "update");
      r.if_match = s3::md5_hex("version-" + std::to_string(round));
      self.tell(static_cast<char>('0' + exit_code((*mine)->put(r, ctx).status())));
    }
    return kDone;
  });
  ASSERT_TRUE(writer.started());
  int resurrected = 0, both_acknowledged = 0, round = 0;
  auto delay = 0ns;
  for (; round < kRounds && resurrected == 0; ++round) {
    ASSERT_TRUE((*c)->put(req("k", "version-" + std::to_string(round)), ctx_).ok());
    writer.send('G');
    for (auto until = std::chrono::steady_clock::now() + delay; std::chrono::steady_clock::now() < until;) {
    }
    Status removed = (*c)->remove("k", ctx_);
    auto updated = writer.receive();
    ASSERT_TRUE(updated.has_value()) << "the writer stopped in round " << round;
    ASSERT_TRUE(removed.ok()) << removed.to_string();
    ASSERT_NE(*updated, '0' + kFailed) << "round " << round;
    if (*updated != '0' + kDone) {  // the delete came first: delete later next time
      delay = std::min<std::chrono::nanoseconds>(delay + 1us, 5ms);
      continue;
    }
    ++both_acknowledged;
    if ((*c)->head("k", ctx_).ok()) ++resurrected;
    delay = std::max<std::chrono::nanoseconds>(delay - 1us, 0ns);  // the update came first: delete sooner
  }
  EXPECT_EQ(resurrected, 0) << "a conditional update undid an acknowledged delete";
  if (resurrected == 0) {
    EXPECT_EQ(writer.wait(), kDone);
  }
  RecordProperty("rounds", round);
  RecordProperty("both_acknowledged", both_acknowledged);
}

// Two processes deleting the same keys at once, each key under its lock: neither blocks the other
// for good, every delete is acknowledged (a key the other removed first counts as deleted, like
// S3) and nothing is left.
TEST_F(FileClientTest, TwoProcessesDeletingTheSameKeysBothSucceed) {
  constexpr int kKeys = 300;
  std::vector<std::string> ks;
  for (int i = 0; i < kKeys; ++i) ks.push_back(std::string("k").append(std::to_string(i)));
  storage::FileClientOptions unsynced;
  unsynced.fsync = false;  // only for filling the store: the deleters sync
  auto c = storage::make_file_client(root_.string(), unsynced);
  ASSERT_TRUE(c.ok());
  for (const auto& k : ks) ASSERT_TRUE((*c)->put(req(k, "v"), ctx_).ok());
  auto deleter = [&](Child& self) {
    self.await();
    auto mine = make_file_client(root_.string());
    if (!mine.ok()) return kFailed;
    OpContext ctx;
    auto r = (*mine)->remove_many(ks, ctx);
    return r.ok() && r->failed.empty() && r->deleted == ks.size() ? kDone : kFailed;
  };
  Child a(deleter), b(deleter);
  ASSERT_TRUE(a.started() && b.started());
  a.send('G');
  b.send('G');
  EXPECT_EQ(a.wait(), kDone);
  EXPECT_EQ(b.wait(), kDone);
  EXPECT_TRUE(keys(**c).empty());
}

}  // namespace
}  // namespace s3db
