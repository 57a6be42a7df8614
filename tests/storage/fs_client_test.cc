#include "storage/fs_client.h"

#include "s3db/connection.h"
#include "s3db/storage_client.h"
#include "storage/fs_format.h"
#include "storage/object_util.h"
#include "support/test_env.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace s3db {
namespace {

namespace stdfs = std::filesystem;

PutRequest req(std::string key, std::string body, Metadata md = {}) {
  PutRequest r;
  r.key = std::move(key);
  r.body = std::move(body);
  r.metadata = std::move(md);
  return r;
}

class FsClientTest : public ::testing::Test {
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

TEST_F(FsClientTest, PersistsAcrossReopen) {
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

TEST_F(FsClientTest, OpenedThroughAConnectionString) {
  auto opts = ConnectionOptions::FromUri("file://" + root_.string());
  ASSERT_TRUE(opts.ok());
  auto c = make_storage_client(*opts);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ((*c)->kind(), "file");
  ASSERT_TRUE((*c)->put(req("k", "v"), ctx_).ok());
  EXPECT_EQ(open()->get("k", ctx_)->body, "v");
}

TEST_F(FsClientTest, TempFilesOfDeadWritersAreCleanedOnOpenAndNeverListed) {
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

TEST_F(FsClientTest, NoTempFilesLeftAfterWrites) {
  auto c = open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c->put(req("k" + std::to_string(i % 5), "v"), ctx_).ok());
  for (const auto& n : files()) EXPECT_FALSE(n.starts_with(".")) << n;
  EXPECT_EQ(files().size(), 5u);
}

TEST_F(FsClientTest, CorruptFileIsAnErrorNotACrash) {
  auto c = open();
  ASSERT_TRUE(c->put(req("k", "v"), ctx_).ok());
  std::ofstream(root_ / "objects" / storage::fs::file_name_for("k"), std::ios::trunc) << "garbage";
  auto got = c->get("k", ctx_);
  EXPECT_EQ(got.status().code(), Code::kInternal) << got.status().to_string();
  EXPECT_EQ(c->head("k", ctx_).status().code(), Code::kInternal);
}

TEST_F(FsClientTest, AwkwardKeysMapToFlatSafeNames) {
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

TEST_F(FsClientTest, RootThatIsAFileIsRejected) {
  stdfs::create_directories(root_);
  std::ofstream(root_ / "plain") << "x";
  auto c = make_file_client((root_ / "plain").string());
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << c.status().to_string();
}

// Many writers of one key: readers only ever see complete objects (body, ETag and metadata of one
// version), and the final object is one of the written versions.
TEST_F(FsClientTest, ConcurrentWritersOfOneKeyNeverTear) {
  auto c = open();
  ASSERT_TRUE(c->put(req("hot", "w-init", {{"body", "w-init"}}), ctx_).ok());
  std::atomic<int> bad{0}, write_errors{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> writers, readers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      OpContext ctx;
      for (int i = 0; i < 30; ++i) {
        // Different lengths, so a torn read would show as a size mismatch.
        std::string body = "w-" + std::to_string(w) + "-" + std::string(static_cast<std::size_t>(i * 37 + w), 'z');
        if (!c->put(req("hot", body, {{"body", body}}), ctx).ok()) write_errors++;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      OpContext ctx;
      for (int i = 0; i < 100000 && !done.load(); ++i) {
        auto got = c->get("hot", ctx);
        if (!got.ok() || got->meta.metadata.at("body") != got->body || got->meta.etag != storage::md5_hex(got->body))
          bad++;
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(files().size(), 1u);  // no temp files left behind
}

// Read-modify-write with If-Match from 8 threads: no increment is lost, which needs the
// check-and-replace of a conditional put to be atomic.
TEST_F(FsClientTest, ConditionalIncrementsFromManyThreadsLoseNothing) {
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

}  // namespace
}  // namespace s3db
