// Resource::insert_json / restore_json: the one-pass reader stores byte for byte what
// insert(json::parse(text)) stores, fails exactly where it fails (same Status), and never accepts
// what the DOM refuses — on every record shape below and on thousands of mutated texts.
//
// Two databases on one store (prefixes "<p>" and "<p>t") hold the same resource: the DOM path
// writes into the first, the text path into the second, and the raw objects are compared. What
// differs by design is masked: the write stamp in the body (a random token per write), sealed
// secrets (a random nonce; compared by reading them back) and, for inserts, the timestamps (now).
#include "db/text_write.h"
#include "db_fixture.h"

#include <gtest/gtest.h>

#include <random>

namespace s3db::testing {
namespace {

using nlohmann::json;

struct Shape {
  std::string name;
  ResourceConfig config;
};

json all_types() {
  return {{"name", "string|required|min:2|max:60"},
          {"email", "email"},
          {"site", "url"},
          {"born", "date"},
          {"age", "integer|min:0"},
          {"score", "number"},
          {"ok", "boolean"},
          {"tags", "array|items:string"},
          {"nums", "array|items:number|min:1|max:5"},
          {"meta", "object"},
          {"blob", "json"},
          {"anything", "any"},
          {"color", "string|enum:red,green,blue"},
          {"level", "integer|enum:1,2,3"},
          {"code", "string|pattern:^[A-Z]{2,4}$"},
          {"addr", {{"$$type", "object"}, {"zip", "string|required"}, {"city", "string|default:Lisbon"}}},
          {"uniq", "array|unique"},
          {"people", "array|items:object"},
          {"role", "string|default:user"},
          {"pin", "secret"}};
}

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  auto add = [&](std::string name, json attributes, MetadataBudget behavior, UnknownAttributes unknown,
                 bool timestamps) {
    ResourceConfig c;
    c.name = std::string("r") + std::to_string(out.size());
    c.attributes = std::move(attributes);
    c.behavior = behavior;
    c.unknown_attributes = unknown;
    c.timestamps = timestamps;
    out.push_back({std::move(name), std::move(c)});
  };
  add("all types", all_types(), MetadataBudget::kUserManaged, UnknownAttributes::kReject, true);
  add("keep unknown", all_types(), MetadataBudget::kUserManaged, UnknownAttributes::kKeep, false);
  add("strip unknown", all_types(), MetadataBudget::kBodyOverflow, UnknownAttributes::kStrip, true);
  add("enforce limits", {{"name", "string"}, {"text", "string"}, {"n", "integer"}}, MetadataBudget::kEnforceLimits,
      UnknownAttributes::kKeep, false);
  add("truncate", {{"name", "string"}, {"text", "string"}, {"n", "integer"}}, MetadataBudget::kTruncateData,
      UnknownAttributes::kReject, false);
  add("body only", all_types(), MetadataBudget::kBodyOnly, UnknownAttributes::kKeep, true);
  return out;
}

std::string pad(std::size_t n, char c = 'x') { return std::string(n, c); }

// `text` with `prefix` put before the value of its first "id" (when it has one).
std::string with_id_prefix(const std::string& text, const std::string& prefix) {
  const auto at = text.find("\"id\":\"");
  if (at == std::string::npos) return text;
  std::string out(text, 0, at + 6);
  out.append(prefix);
  out.append(text, at + 6, std::string::npos);
  return out;
}

// Documents as text. Some are valid for "all types", others break a rule of it or of another shape.
std::vector<std::string> documents() {
  std::vector<std::string> d = {
      R"({"id":"a1","name":"Ana","email":"ana@example.com","age":30,"score":1.5,"ok":true,"tags":["x","y"],"meta":{"b":1,"a":[1,2,{"z":null,"c":"d"}]}})",
      R"({"name":"Bo","id":"a2","site":"https://example.com/x?y=1","born":"2024-02-29T10:00:00Z","nums":[1,2.5,-3,1e2,0.1]})",
      R"({"id":"a3","name":"Ünïcödé ✓ 🎉","blob":{"k":"v","n":[true,false,null]},"anything":"~tilde","color":"green","level":2})",
      R"({"id":"a4","name":"esc \"q\" \\ \/ \b\f\n\r\t \u0001 \u00e9 \ud83d\ude00","code":"AB"})",
      R"({"id":"a5","name":"  two  spaces  ","anything":"=?utf-8?q?x?=","meta":{}})",
      R"({"id":"a6","name":"nums","age":9223372036854775807,"score":18446744073709551615,"blob":[-9223372036854775808,0,-0,1.0,1E5,-1.5e-7,1e308,5e-324]})",
      R"({"id":"a7","name":"float int","age":42.0,"score":-0.0,"anything":123456789012345678})",
      R"({"id":"a8","name":"addr","addr":{"zip":"1000","extra":1}})",
      R"({"id":"a9","name":"addr default","addr":{"zip":"1000"},"people":[{"n":1},{"b":2,"a":1}],"uniq":[1,"1",[1],{"a":1}]})",
      R"({"id":"a10","name":"nulls","email":null,"tags":null,"meta":null,"role":null})",
      R"({"id":"a11","name":"dup nested","meta":{"k":1,"k":2,"a":{"y":1,"y":[2]}}})",
      R"({"id":"a12","name":"unknown","zzz":{"b":2,"a":1},"aaa":[1,{"y":1,"x":2}],"mmm":null})",
      R"({"id":"a13","name":"ts","createdAt":"2020-01-01T00:00:00Z","updatedAt":"2021-01-01T00:00:00.123Z"})",
      R"({"id":"a14","name":"secret","pin":"p?@/%:w"})",
      R"(  {"id":"a15","name":"ws"}  )",
      R"({"id":"a16","name":"big int as number","score":-9223372036854775808,"nums":[18446744073709551615]})",
      R"({"id":"a17","name":"tiny","score":1e-400,"blob":[1e-400,-1e-400,2.5e-308]})",
      R"({"id":"a18","name":"ts bad","createdAt":12})",
      R"({"id":"a19","name":"ts off","createdAt":[1],"updatedAt":{"b":1,"a":2}})",
      R"({"name":"no id"})",
      R"({"id":null,"name":"null id"})",
      // Rule failures: the errors must be the DOM's, every field named.
      R"({"id":"e1","name":"x","email":"nope","age":-1,"tags":[1],"nums":[],"color":"pink","level":5,"code":"abc"})",
      R"({"id":"e2","age":"1"})",
      R"({"id":"e3","name":"int64","age":9223372036854775808})",
      R"({"id":"e4","name":"addr","addr":{"city":"x"},"uniq":[1,1]})",
      R"({"id":"e5","name":"types","ok":"yes","meta":[],"tags":{},"people":[1]})",
      R"({"id":"e6","name":"bad id type","id2":1})",
      R"({"id":7,"name":"id not a string"})",
      R"({"id":"bad/../id","name":"bad id"})",
      R"({"id":"","name":"empty id"})",
      // Left to the DOM: a top-level key twice, integers beyond 64 bits.
      R"({"id":"d1","name":"first","name":"second"})",
      R"({"id":"d2","name":"huge","score":18446744073709551616,"blob":-9223372036854775809})",
      R"({"id":"d3","id":"d3","name":"id twice"})",
      // Not JSON (or not an object).
      R"({"id":"j1","name":"x",})",
      R"({"id":"j2","name":"x"} x)",
      R"({"id":"j3","name":"x"}})",
      R"([{"id":"j4"}])",
      R"("just a string")",
      R"({"id":"j5","name":"x","blob":[1,tru]})",
      R"({"id":"j6","name":"x","zzz":[1,]})",
      R"({"id":"j7","name":"\ud800"})",
      "{\"id\":\"j8\",\"name\":\"raw \x01 control\"}",
      "{\"id\":\"j9\",\"name\":\"bad utf8 \xff\"}",
      R"({"id":"j10","name":"x","score":1e400})",
      R"({"id":"j11","name":"x","score":01})",
      "",
      "{",
  };
  // Around the 2 KB metadata budget: the text's value grows a byte at a time.
  for (std::size_t n : {1990, 1995, 2000, 2005, 2010, 2030, 2040}) {
    d.push_back(std::string(R"({"id":"s)") + std::to_string(n) + R"(","name":"sz","text":")" + pad(n) + R"(","n":7})");
    d.push_back(std::string(R"({"id":"u)") + std::to_string(n) + R"(","name":"sz","text":")" + pad(n / 3, ' ') + "é" + pad(n / 3, '~') +
                R"(","n":-7})");
  }
  return d;
}

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Sealed secrets: "2." then 30 or more base64url characters.
std::string mask_sealed(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 0;
    if (s.compare(i, 2, "2.") == 0)
      while (i + 2 + n < s.size() && id_char(s[i + 2 + n])) ++n;
    if (n >= 30) {
      out += "<secret>";
      i += 2 + n;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// ISO 8601 times "YYYY-MM-DDT...Z".
std::string mask_times(const std::string& s) {
  std::string out;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t i = 0; i < s.size();) {
    const bool date = i + 11 <= s.size() && digit(s[i]) && digit(s[i + 1]) && digit(s[i + 2]) && digit(s[i + 3]) &&
                      s[i + 4] == '-' && s[i + 7] == '-' && s[i + 10] == 'T';
    std::size_t end = i + 11;
    if (date) {
      while (end < s.size() && (digit(s[end]) || s[end] == ':' || s[end] == '.')) ++end;
    }
    if (date && end < s.size() && s[end] == 'Z') {
      out += "<time>";
      i = end + 1;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// A generated id in a message: "/" then 22 id characters then ":".
std::string mask_generated_id(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 0;
    if (s[i] == '/')
      while (i + 1 + n < s.size() && id_char(s[i + 1 + n])) ++n;
    if (n == 22 && i + 23 < s.size() && s[i + 23] == ':') {
      out += "/<id>:";
      i += 24;
    } else {
      out += s[i++];
    }
  }
  return out;
}

class InsertJsonTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    db_dom_ = open_with_prefix(prefix_);
    db_text_ = open_with_prefix(prefix_ + "t");
  }

  std::unique_ptr<Database> open_with_prefix(const std::string& prefix) {
    DatabaseOptions o = options("pass?@/%:word");
    o.prefix = prefix;
    auto db = Database::open(client_, o);
    EXPECT_TRUE(db.ok()) << db.status().to_string();
    return db.ok() ? std::make_unique<Database>(*db) : nullptr;
  }

  struct Pair {
    Resource dom, text;
    std::string name;
  };
  Pair make_pair(const Shape& s) {
    auto a = db_dom_->create_resource(s.config);
    auto b = db_text_->create_resource(s.config);
    EXPECT_TRUE(a.ok() && b.ok());
    return {*a, *b, s.config.name};
  }

  Result<Object> raw(const std::string& prefix, const std::string& resource, const std::string& id) {
    return client_->get(prefix + "/resource=" + resource + "/data/id=" + id);
  }

  // The stored object as text, with what differs by design masked: sealed secrets ("2." and the
  // base64url of nonce, ciphertext and tag), the body's write stamp, the timestamps (now).
  static std::string masked(const Object& o) {
    std::string out;
    for (const auto& [k, v] : o.meta.metadata) out += k + "=" + v + "\n";
    std::string body = o.body;
    if (!body.empty() && body[0] == '~') body = "~<stamp>";
    if (body.rfind("{\"w-\":\"", 0) == 0) {
      const auto end = body.find('"', 7);
      body = "{\"w-\":\"<stamp>" + body.substr(end);
    }
    out += "body=" + body;
    return mask_times(mask_sealed(out));
  }

  // Writes `text` both ways; expects the same outcome and the same stored bytes. Returns whether
  // it was stored.
  bool same_both_ways(Pair& p, const std::string& text, bool restore, const std::string& label) {
    std::optional<json> doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception&) {  // parse_error; out_of_range for 1e400
    }
    Result<std::string> t = restore ? p.text.restore_json(text) : p.text.insert_json(text);
    if (!doc) {
      EXPECT_FALSE(t.ok()) << label << ": the DOM cannot parse it, the text path stored it";
      if (!t.ok()) {
        EXPECT_EQ(t.status().code(), Code::kInvalidArgument) << label;
        EXPECT_NE(t.status().message().find("not valid JSON"), std::string::npos) << label << t.status().to_string();
      }
      return false;
    }
    Result<json> d = restore ? p.dom.restore(*doc) : p.dom.insert(*doc);
    EXPECT_EQ(d.ok(), t.ok()) << label << "\n dom: " << (d.ok() ? d->dump() : d.status().to_string())
                              << "\n text: " << (t.ok() ? *t : t.status().to_string());
    if (!d.ok() || !t.ok()) {
      if (!d.ok() && !t.ok()) {
        // A generated id (the document has none) differs between the two writes.
        const bool generated = !(doc->is_object() && doc->contains("id") && (*doc)["id"].is_string());
        auto shown = [&](const Status& st) {
          return generated ? mask_generated_id(st.to_string()) : st.to_string();
        };
        EXPECT_EQ(shown(d.status()), shown(t.status())) << label;
      }
      return false;
    }
    const std::string id = (*d)["id"].get<std::string>();
    if (doc->contains("id") && (*doc)["id"].is_string()) {
      EXPECT_EQ(*t, id) << label;
    }
    auto a = raw(prefix_, p.name, id);
    auto b = raw(prefix_ + "t", p.name, *t);
    EXPECT_TRUE(a.ok() && b.ok()) << label;
    if (!a.ok() || !b.ok()) return false;
    EXPECT_EQ(masked(*a), masked(*b)) << label;
    // What a read returns is the same too (the secrets decrypt to the same values).
    auto ra = p.dom.get(id);
    auto rb = p.text.get(*t);
    EXPECT_TRUE(ra.ok() && rb.ok()) << label;
    if (ra.ok() && rb.ok()) {
      json x = *ra, y = *rb;
      for (json* j : {&x, &y}) {
        j->erase("id");
        if (!restore || !(doc->contains("createdAt") && doc->contains("updatedAt"))) {
          j->erase("createdAt");  // now: differs between the two writes
          j->erase("updatedAt");
        }
      }
      EXPECT_EQ(x, y) << label;
    }
    return true;
  }

  std::unique_ptr<Database> db_dom_, db_text_;
};

TEST_P(InsertJsonTest, EveryShapeStoresWhatInsertOfTheParsedDocumentStores) {
  for (const Shape& s : shapes()) {
    Pair p = make_pair(s);
    for (bool restore : {false, true}) {
      int stored = 0;
      int n = 0;
      for (const std::string& text : documents()) {
        std::string t = text;
        // Restores go under other ids: a record of the insert round is there already.
        if (restore) t = with_id_prefix(t, "R");
        std::string label = s.name;
        label += restore ? " restore #" : " insert #";
        label += std::to_string(n++);
        label += ": ";
        label += t.substr(0, 120);
        const auto before = db::text_write_counts();
        const bool ok = same_both_ways(p, t, restore, label);
        stored += ok;
        // Every record stored took the one pass, but those of the shapes it leaves to the DOM
        // (the "d" documents: a key twice, integers beyond 64 bits).
        const bool declined_shape = t.find(restore ? "\"id\":\"Rd" : "\"id\":\"d") != std::string::npos;
        if (ok) {
          EXPECT_EQ(db::text_write_counts().one_pass - before.one_pass, declined_shape ? 0u : 1u) << label;
        }
      }
      EXPECT_GT(stored, 0) << s.name;
    }
  }
}

TEST_P(InsertJsonTest, ValidRecordsOfTheSeedShapeTakeTheOnePassAndGeneratedIdsAreReturned) {
  ResourceConfig c;
  c.name = "seed";
  c.attributes = {{"name", "string|required"}, {"email", "email|required"}, {"age", "integer|min:0"},
                  {"status", "string"},       {"tags", "array|items:string"}, {"metadata", "object"}};
  auto r = db_text_->create_resource(c);
  ASSERT_TRUE(r.ok());
  const auto before = db::text_write_counts();
  std::vector<std::string> texts;
  for (int i = 0; i < 20; ++i) {
    texts.push_back(std::string(R"({"name":"User )") + std::to_string(i) + R"(","email":"u)" + std::to_string(i) +
                    R"(@example.com","age":)" + std::to_string(18 + i) +
                    R"(,"status":"active","tags":["a","b"],"metadata":{"source":"bench","score":)" +
                    std::to_string(i * 7) + "}}");
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  BulkResult bulk = r->insert_many_json(views);
  ASSERT_EQ(bulk.succeeded, texts.size());
  const auto after = db::text_write_counts();
  EXPECT_EQ(after.one_pass - before.one_pass, texts.size());
  EXPECT_EQ(after.dom, before.dom);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(bulk.items[i].id.size(), 22u);
    EXPECT_TRUE(bulk.items[i].document.is_null());
    auto got = r->get(bulk.items[i].id);
    ASSERT_TRUE(got.ok());
    json expected = json::parse(texts[i]);
    for (auto& [k, v] : expected.items()) EXPECT_EQ((*got)[k], v) << k;
  }
  auto doc = r->insert_json_document(texts[0]);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["name"], "User 0");
  EXPECT_TRUE((*doc)["id"].is_string());
  auto dup = r->insert_json(R"({"id":")" + bulk.items[0].id + R"(","name":"x","email":"x@y.z"})");
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists) << dup.status().to_string();
  auto replaced = r->restore_json(R"({"id":")" + bulk.items[0].id + R"(","name":"again","email":"x@y.z"})",
                                  IfExists::kReplace);
  ASSERT_TRUE(replaced.ok()) << replaced.status().to_string();
  EXPECT_EQ((*r->get(bulk.items[0].id))["name"], "again");
}

// Without a passphrase a secret cannot be encoded, but the whole document is validated first:
// a missing required attribute is the error, as insert() says.
TEST_P(InsertJsonTest, ValidationComesBeforeEncodingAsInTheDomPath) {
  ResourceConfig c;
  c.name = "s";
  c.attributes = {{"pin", "secret"}, {"zname", "string|required"}};
  ASSERT_TRUE(db_text_->create_resource(c).ok());  // created where the passphrase is known
  DatabaseOptions o = options();
  o.prefix = prefix_ + "t";
  auto db = Database::open(client_, o);  // the same database, opened without it
  ASSERT_TRUE(db.ok());
  auto r = db->resource("s");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const std::string text = R"({"id":"x1","pin":"1234"})";
  auto d = r->insert(json::parse(text));
  auto t = r->insert_json(text);
  ASSERT_FALSE(d.ok());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(d.status().to_string(), t.status().to_string());
  EXPECT_NE(t.status().to_string().find("zname (required)"), std::string::npos) << t.status().to_string();
  auto t2 = r->insert_json(R"({"id":"x2","pin":"1234","zname":"z"})");
  auto d2 = r->insert(json::parse(R"({"id":"x3","pin":"1234","zname":"z"})"));
  ASSERT_FALSE(t2.ok());
  EXPECT_EQ(t2.status().code(), d2.status().code());
  EXPECT_EQ(t2.status().message(), d2.status().message());
}

TEST_P(InsertJsonTest, HooksAndPartitionsSeeTheDocumentThroughTheDomPath) {
  ResourceConfig c;
  c.name = "hooked";
  c.attributes = {{"name", "string"}, {"country", "string"}};
  c.partitions = {PartitionConfig{"byCountry", {"country"}}};
  auto r = db_text_->create_resource(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  r->before_insert([](json& doc) -> Status {
    doc["name"] = doc["name"].get<std::string>() + "!";
    return Status::OK();
  });
  auto id = r->insert_json(R"({"name":"Ana","country":"PT"})");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ((*r->get(*id))["name"], "Ana!");
  ListOptions lo;
  lo.partition = "byCountry";
  lo.values = {{"country", "PT"}};
  auto listed = r->list(lo);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

// Mutated texts: whatever the DOM makes of them (an error, a record), the text path makes too.
TEST_P(InsertJsonTest, MutatedTextsNeverDivergeFromTheDom) {
  const int rounds = GetParam() == "memory" ? 3000 : GetParam() == "file" ? 600 : 150;
  std::vector<Shape> all = shapes();
  Pair keep = make_pair(all[1]);  // kKeep: most texts that parse are stored
  Pair reject = make_pair(all[0]);
  std::vector<std::string> seeds = documents();
  std::mt19937_64 rng(20261202);
  const std::string alphabet = "{}[],:\"\\ 0123456789.eE-+tfnul\xc3\xa9\x01";
  int parsed = 0, stored = 0;
  for (int i = 0; i < rounds; ++i) {
    std::string t = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      const std::size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0: t.erase(at, 1); break;
        case 1: t.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: t[at] = alphabet[rng() % alphabet.size()]; break;
      }
    }
    // Unique ids: a mutated text must not collide with an earlier round's record.
    t = with_id_prefix(t, std::string("m") + std::to_string(i) + "-");
    bool is_json = json::accept(t);
    parsed += is_json;
    Pair& p = (i % 2 == 0) ? keep : reject;
    stored += same_both_ways(p, t, false, std::string("mutation ") + std::to_string(i) + ": " + t.substr(0, 200));
    if (HasFailure()) break;
  }
  EXPECT_GT(parsed, rounds / 10);
  EXPECT_GT(stored, rounds / 20);
}

INSTANTIATE_TEST_SUITE_P(Backends, InsertJsonTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
