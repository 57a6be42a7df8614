// Resource::restore: writes documents as an export gave them (issue 8, item 12).
#include "s3db/resource.h"

#include "db_fixture.h"

namespace s3db::testing {
namespace {

using nlohmann::json;

class RestoreTest : public DbTest {
 protected:
  Resource notes() {
    ResourceConfig c;
    c.name = "notes";
    c.attributes = {{"text", "string|required"}};
    c.timestamps = true;
    return make(c);
  }
};

TEST_P(RestoreTest, KeepsTheTimestampsItIsGiven) {
  auto r = notes();
  const json doc = {{"id", "n1"}, {"text", "hello"},
                    {"createdAt", "2020-01-02T03:04:05.678Z"}, {"updatedAt", "2021-02-03T04:05:06.789Z"}};
  auto put = r.restore(doc);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  auto got = r.get("n1");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, doc);
  // An insert of the same shape sets its own timestamps (restore is the only way to keep them).
  auto ins = r.insert({{"id", "n2"}, {"text", "x"}, {"createdAt", "2020-01-02T03:04:05.678Z"}});
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  EXPECT_NE((*ins)["createdAt"], "2020-01-02T03:04:05.678Z");
}

TEST_P(RestoreTest, ExistingIdFailsOrIsReplacedAsAsked) {
  auto r = notes();
  ASSERT_TRUE(r.insert({{"id", "n1"}, {"text", "stored"}}).ok());
  const json doc = {{"id", "n1"}, {"text", "exported"},
                    {"createdAt", "2020-01-02T03:04:05.678Z"}, {"updatedAt", "2021-02-03T04:05:06.789Z"}};
  EXPECT_EQ(r.restore(doc).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(r.get("n1").value()["text"], "stored");
  auto replaced = r.restore(doc, IfExists::kReplace);
  ASSERT_TRUE(replaced.ok()) << replaced.status().to_string();
  EXPECT_EQ(r.get("n1").value(), doc);
  // Idempotent: the same export restored twice leaves the same record.
  ASSERT_TRUE(r.restore(doc, IfExists::kReplace).ok());
  EXPECT_EQ(r.get("n1").value(), doc);
}

TEST_P(RestoreTest, BadTimestampIsNamedAndNothingIsWritten) {
  auto r = notes();
  auto bad = r.restore({{"id", "n1"}, {"text", "t"}, {"createdAt", "yesterday"}});
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("createdAt"), std::string::npos) << bad.status().to_string();
  EXPECT_EQ(r.get("n1").status().code(), Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, RestoreTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
