// Shared fixture of the db tests: a Database on memory://, file:// (temp dir) or RGW
// (S3DB_TEST_RGW_URL; skipped — or failed under S3DB_REQUIRE_SERVERS=1 — when unset).
#pragma once

#include "s3db/database.h"
#include "support/test_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace s3db::testing {

class DbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string kind = GetParam();
    if (kind == "memory") {
      MemoryClientOptions mo;
      mo.enforce_metadata_limit = true;  // the store itself checks that we never exceed 2 KB
      client_ = Client::wrap(std::shared_ptr<StorageClient>(make_memory_client(mo)));
      uri_.clear();
    } else if (kind == "file") {
      char tmpl[] = "/tmp/s3db-db-test-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      uri_ = "file://" + dir_;
      auto c = Client::open(uri_);
      ASSERT_TRUE(c.ok()) << c.status().to_string();
      client_ = *c;
    } else {
      S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
      uri_ = url;
      auto c = Client::open(uri_);
      ASSERT_TRUE(c.ok()) << c.status().to_string();
      client_ = *c;
    }
    prefix_ = unique_test_prefix();
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
    for (char& ch : prefix_) {
      if (ch == '=') ch = '-';
    }
    db_ = open_db();
  }

  void TearDown() override {
    client_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  DatabaseOptions options(std::string passphrase = {}) const {
    DatabaseOptions o;
    o.prefix = prefix_;
    o.passphrase = std::move(passphrase);
    o.pbkdf2_iterations = 1000;  // keeps tests fast; production default is 100,000
    return o;
  }

  std::unique_ptr<Database> open_db(std::string passphrase = {}) {
    auto db = Database::open(client_, options(std::move(passphrase)));
    EXPECT_TRUE(db.ok()) << db.status().to_string();
    return db.ok() ? std::make_unique<Database>(*db) : nullptr;
  }

  Resource make(ResourceConfig config) {
    auto r = db_->create_resource(std::move(config));
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return std::move(r).value();
  }

  // Raw keys under the database prefix + `sub` (read straight from the store).
  std::vector<ObjectMeta> raw_list(const std::string& sub) {
    auto r = client_->list_all(prefix_ + "/" + sub);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : std::vector<ObjectMeta>{};
  }
  std::string key(const std::string& resource, const std::string& id) const {
    return prefix_ + "/resource=" + resource + "/data/id=" + id;
  }

  std::shared_ptr<Client> client_;
  std::unique_ptr<Database> db_;
  std::string prefix_;
  std::string uri_;
  std::string dir_;
};

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace s3db::testing
