// A record's binary content (Resource::set_content and friends): byte-exact round trips, its own
// key beside the record (so body-only / body-overflow records keep their body), gone with its
// record, and invisible to the record reads.
#include "s3db/resource.h"

#include "db_fixture.h"

#include <atomic>
#include <mutex>

namespace s3db::testing {
namespace {

using nlohmann::json;

std::string every_byte() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

class ContentTest : public DbTest {
 protected:
  Resource files(MetadataBudget behavior = MetadataBudget::kUserManaged) {
    ResourceConfig c;
    c.name = "files";
    c.attributes = {{"name", "string"}, {"note", "string"}};
    c.behavior = behavior;
    return make(c);
  }
  std::string content_key(const std::string& id) const { return prefix_ + "/resource=files/content/id=" + id; }
};

TEST_P(ContentTest, RoundTripsEveryByteValueAndTheEmptyBody) {
  auto r = files();
  ASSERT_TRUE(r.insert({{"id", "f1"}, {"name", "one"}}).ok());
  ASSERT_TRUE(r.insert({{"id", "f2"}, {"name", "two"}}).ok());
  const std::string bytes = every_byte() + every_byte();  // NULs, CR/LF, 0x80..0xFF, invalid UTF-8
  auto set = r.set_content("f1", bytes, "image/png");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->size, 512u);
  EXPECT_EQ(set->content_type, "image/png");
  EXPECT_FALSE(set->etag.empty());
  auto got = r.get_content("f1");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->bytes, bytes);
  EXPECT_EQ(got->info.size, 512u);
  EXPECT_EQ(got->info.content_type, "image/png");
  EXPECT_EQ(got->info.etag, set->etag);

  auto empty = r.set_content("f2", "");  // default type
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  auto got_empty = r.get_content("f2");
  ASSERT_TRUE(got_empty.ok()) << got_empty.status().to_string();
  EXPECT_EQ(got_empty->bytes, "");
  EXPECT_EQ(got_empty->info.size, 0u);
  EXPECT_EQ(got_empty->info.content_type, "application/octet-stream");
  EXPECT_TRUE(r.has_content("f2").value());  // empty content is content

  // Stored at the documented key, the record untouched.
  auto head = client_->head(content_key("f1"));
  ASSERT_TRUE(head.ok()) << head.status().to_string();
  EXPECT_EQ(head->size, 512u);
  EXPECT_EQ(r.get("f1").value()["name"], "one");
}

TEST_P(ContentTest, SetReplacesAndKeepsTheNewTypeAsyncFormsAgree) {
  auto r = files();
  ASSERT_TRUE(r.insert({{"id", "f"}, {"name", "n"}}).ok());
  ASSERT_TRUE(r.set_content("f", "first", "text/plain").ok());
  auto second = r.set_content_async("f", std::string("second\0bytes", 12), "application/pdf").get();
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  auto got = r.get_content_async("f").get();
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->bytes, std::string("second\0bytes", 12));
  EXPECT_EQ(got->info.content_type, "application/pdf");
  EXPECT_EQ(got->info.etag, second->etag);
}

TEST_P(ContentTest, HasAndDeleteContent) {
  auto r = files();
  ASSERT_TRUE(r.insert({{"id", "f"}, {"name", "n"}}).ok());
  EXPECT_FALSE(r.has_content("f").value());
  auto none = r.get_content("f");
  ASSERT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("files"), std::string::npos) << none.status().message();
  EXPECT_NE(none.status().message().find("content"), std::string::npos) << none.status().message();
  EXPECT_NE(none.status().message().find("'f'"), std::string::npos) << none.status().message();
  EXPECT_EQ(r.delete_content("f").code(), Code::kNotFound);

  ASSERT_TRUE(r.set_content("f", "x").ok());
  EXPECT_TRUE(r.has_content("f").value());
  EXPECT_TRUE(r.delete_content("f").ok());
  EXPECT_FALSE(r.has_content("f").value());
  EXPECT_EQ(r.get_content("f").status().code(), Code::kNotFound);
  EXPECT_EQ(r.delete_content("f").code(), Code::kNotFound);
  EXPECT_TRUE(r.exists("f").value());  // the record stays
}

TEST_P(ContentTest, SetOnAMissingRecordIsNotFoundAndWritesNothing) {
  auto r = files();
  auto s = r.set_content("ghost", "bytes");
  ASSERT_EQ(s.status().code(), Code::kNotFound);
  EXPECT_NE(s.status().message().find("no record with id 'ghost'"), std::string::npos) << s.status().message();
  EXPECT_TRUE(raw_list("resource=files/content/").empty());
  EXPECT_FALSE(r.has_content("ghost").value());
}

TEST_P(ContentTest, BadIdsAndContentTypesAreInvalidArgument) {
  auto r = files();
  ASSERT_TRUE(r.insert({{"id", "f"}, {"name", "n"}}).ok());
  for (const std::string id : {"a/b", "", ".."}) {
    EXPECT_EQ(r.set_content(id, "x").status().code(), Code::kInvalidArgument) << id;
    EXPECT_EQ(r.get_content(id).status().code(), Code::kInvalidArgument) << id;
    EXPECT_EQ(r.has_content(id).status().code(), Code::kInvalidArgument) << id;
    EXPECT_EQ(r.delete_content(id).code(), Code::kInvalidArgument) << id;
  }
  for (const std::string& type : std::vector<std::string>{"text/plain\r\nx-amz-acl: public-read", "plain", "/x", "x/", " a/b",
                                 std::string("caf\xC3\xA9/x"), "a/" + std::string(300, 'b')}) {
    EXPECT_EQ(r.set_content("f", "x", type).status().code(), Code::kInvalidArgument) << type;
  }
  EXPECT_FALSE(r.has_content("f").value());
  // Parameters are part of a media type.
  EXPECT_TRUE(r.set_content("f", "x", "text/plain; charset=utf-8").ok());
  EXPECT_EQ(r.get_content("f").value().info.content_type, "text/plain; charset=utf-8");
}

TEST_P(ContentTest, RemoveDeletesTheContentToo) {
  auto r = files();
  ASSERT_TRUE(r.insert({{"id", "f"}, {"name", "n"}}).ok());
  ASSERT_TRUE(r.set_content("f", every_byte()).ok());
  ASSERT_TRUE(r.remove("f").ok());
  EXPECT_TRUE(raw_list("resource=files/content/").empty());
  // A new record with the same id starts without content.
  ASSERT_TRUE(r.insert({{"id", "f"}, {"name", "again"}}).ok());
  EXPECT_FALSE(r.has_content("f").value());
  EXPECT_EQ(r.get_content("f").status().code(), Code::kNotFound);
  // remove_many goes through the same op.
  ASSERT_TRUE(r.set_content("f", "x").ok());
  EXPECT_EQ(r.remove_many({"f"}).succeeded, 1u);
  EXPECT_TRUE(raw_list("resource=files/content/").empty());
}

TEST_P(ContentTest, UpdatesOfTheRecordKeepItsContent) {
  auto r = files();
  ASSERT_TRUE(r.insert({{"id", "f"}, {"name", "n"}}).ok());
  ASSERT_TRUE(r.set_content("f", "keep me", "text/plain").ok());
  ASSERT_TRUE(r.update("f", json{{"note", "changed"}}).ok());
  ASSERT_TRUE(r.replace("f", json{{"name", "replaced"}}).ok());
  ASSERT_TRUE(r.upsert(json{{"id", "f"}, {"name", "upserted"}}).ok());
  EXPECT_EQ(r.get_content("f").value().bytes, "keep me");
  EXPECT_EQ(r.get("f").value()["name"], "upserted");
}

// Body-only and body-overflow records use the data object's body for their fields: content at its
// own key leaves both intact, whichever is written last.
TEST_P(ContentTest, BodyOnlyAndBodyOverflowRecordsKeepTheirBody) {
  for (MetadataBudget b : {MetadataBudget::kBodyOnly, MetadataBudget::kBodyOverflow}) {
    SCOPED_TRACE(std::string(behavior_name(b)));
    ResourceConfig c;
    c.name = std::string("b-") + std::string(behavior_name(b));
    c.attributes = {{"name", "string"}, {"note", "string"}};
    c.behavior = b;
    auto r = make(c);
    const std::string big(3000, 'n');  // > 2 KB: overflows into the body
    const json doc = {{"id", "rec"}, {"name", "short"}, {"note", big}};
    ASSERT_TRUE(r.insert(doc).ok());
    const std::string bytes = every_byte();
    ASSERT_TRUE(r.set_content("rec", bytes, "application/x-raw").ok());
    auto got = r.get("rec");
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ((*got)["note"], big);
    EXPECT_EQ((*got)["name"], "short");
    ASSERT_TRUE(r.update("rec", json{{"note", big + "!"}}).ok());  // the record's body rewritten
    auto content = r.get_content("rec");
    ASSERT_TRUE(content.ok()) << content.status().to_string();
    EXPECT_EQ(content->bytes, bytes);
    EXPECT_EQ(r.get("rec").value()["note"], big + "!");
    auto data = client_->head(key(c.name, "rec"));
    ASSERT_TRUE(data.ok());
    EXPECT_GT(data->size, 3000u);  // the fields still live in the record's own body
  }
}

TEST_P(ContentTest, RecordReadsNeverSeeContentKeys) {
  ResourceConfig c;
  c.name = "files";
  c.attributes = {{"name", "string"}, {"kind", "string"}};
  c.partitions = {{"byKind", {"kind"}}};
  auto r = make(c);
  for (int i = 0; i < 3; ++i) {
    const std::string id = std::string("f") + std::to_string(i);
    ASSERT_TRUE(r.insert({{"id", id}, {"name", "n"}, {"kind", "img"}}).ok());
    ASSERT_TRUE(r.set_content(id, "bytes of " + id).ok());
  }
  EXPECT_EQ(raw_list("resource=files/content/").size(), 3u);
  EXPECT_EQ(r.count().value(), 3u);
  EXPECT_EQ(r.list_ids().value(), (std::vector<std::string>{"f0", "f1", "f2"}));
  EXPECT_EQ(r.list().value().size(), 3u);
  PageRequest page;
  page.size = 2;
  auto p1 = r.page(page);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->items.size(), 2u);
  page.cursor = p1->next_cursor;
  auto p2 = r.page(page);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->items.size(), 1u);
  EXPECT_TRUE(p2->next_cursor.empty());
  ListOptions part;
  part.partition = "byKind";
  part.values = {{"kind", "img"}};
  EXPECT_EQ(r.count(part).value(), 3u);
  EXPECT_EQ(r.query(json{{"kind", "img"}}).value().size(), 3u);
}

TEST_P(ContentTest, IdsWithEqualsPercentAndUnicode) {
  auto r = files();
  for (const std::string id : {"a=b", "id=x", "50%25off", "%", "ação 日本 🙂"}) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(r.insert({{"id", id}, {"name", "n"}}).ok());
    ASSERT_TRUE(r.set_content(id, "content of " + id).ok());
  }
  for (const std::string id : {"a=b", "id=x", "50%25off", "%", "ação 日本 🙂"}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(r.get_content(id).value().bytes, "content of " + id);
  }
  EXPECT_EQ(r.count().value(), 5u);
  ASSERT_TRUE(r.remove("id=x").ok());
  EXPECT_FALSE(r.has_content("id=x").value());
  EXPECT_TRUE(r.has_content("a=b").value());
  ASSERT_TRUE(r.delete_content("ação 日本 🙂").ok());
  EXPECT_EQ(raw_list("resource=files/content/").size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ContentTest, ::testing::Values("memory", "file", "rgw"), backend_name);

// A remove() that runs between set_content's first HEAD and its PUT deletes the record and the
// (not yet written) content; the PUT then lands. set_content's second HEAD sees the record gone and
// deletes the content it wrote: no content outlives its record.
class RemoveDuringContentPut final : public ForwardingClient {
 public:
  RemoveDuringContentPut() : ForwardingClient(make_memory_client()) {}
  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    if (r.key.find("/content/id=") != std::string::npos && armed.exchange(false)) {
      // What a concurrent remove() does just before our PUT: the record, then its content.
      EXPECT_TRUE(target().remove(record_key, c).ok());
      EXPECT_TRUE(target().remove(r.key, c).ok());
    }
    return target().put(r, c);
  }
  Result<PutResult> put_moved(PutRequest&& r, OpContext& c) override { return put(r, c); }
  Result<ObjectMeta> head(std::string_view k, OpContext& c) override {
    ++heads;
    return target().head(k, c);
  }
  Status remove(std::string_view k, OpContext& c) override {
    ++removes;
    return target().remove(k, c);
  }
  std::string record_key;
  std::atomic<bool> armed{false};
  std::atomic<int> heads{0}, removes{0};
};

TEST(ContentRace, SetContentRacingWithRemoveLeavesNoContent) {
  auto store = std::make_shared<RemoveDuringContentPut>();
  auto client = Client::wrap(store);
  auto db = Database::open(client);
  ASSERT_TRUE(db.ok());
  ResourceConfig c;
  c.name = "files";
  c.attributes = {{"name", "string"}};
  auto r = db->create_resource(c);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->insert({{"id", "f"}, {"name", "n"}}).ok());
  store->record_key = "resource=files/data/id=f";
  store->armed = true;
  auto s = r->set_content("f", "late bytes");
  EXPECT_EQ(s.status().code(), Code::kNotFound) << s.status().to_string();
  EXPECT_FALSE(store->armed.load());  // the race was staged
  EXPECT_FALSE(r->has_content("f").value());
  EXPECT_TRUE(client->list_all("resource=files/content/").value().empty());

  // Cost, counted: set_content = HEAD + PUT + HEAD; remove (no partitions) = HEAD + 2 DELETEs.
  ASSERT_TRUE(r->insert({{"id", "g"}, {"name", "n"}}).ok());
  store->heads = 0;
  ASSERT_TRUE(r->set_content("g", "bytes").ok());
  EXPECT_EQ(store->heads.load(), 2);
  store->heads = 0;
  store->removes = 0;
  ASSERT_TRUE(r->remove("g").ok());
  EXPECT_EQ(store->heads.load(), 1);
  EXPECT_EQ(store->removes.load(), 2);
}

}  // namespace
}  // namespace s3db::testing
