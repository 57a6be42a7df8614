// Record ids through keys and back (issue 8, item 2): every id the rules allow — '=', '%', "id=",
// "..x", spaces, any printable code point — is found again by list, list_ids, page, query and
// count, on every store.
#include "db/ids.h"
#include "db/records.h"
#include "db/state.h"

#include "db_fixture.h"

#include <set>

namespace s3db::testing {
namespace {

using nlohmann::json;

// Appends one code point as UTF-8.
void append_utf8(std::string& s, std::uint32_t cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct Rng {  // deterministic: a failure names a case that reproduces
  std::uint64_t x;
  std::uint64_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};

// A candidate id: pieces that stress the key format ("id=", "=", "%", "/id=", dots, spaces) and
// random code points from every UTF-8 length, up to 255 bytes (one past sometimes).
std::string candidate(Rng& rng) {
  static const char* const kPieces[] = {"id=", "=", "%", "%2F", "..", ".", " ", "/id=", "~", "\\", "+", "?", "#", "&"};
  std::string id;
  const std::size_t target = 1 + rng.below(rng.below(4) == 0 ? 257 : 24);
  while (id.size() < target) {
    switch (rng.below(5)) {
      case 0: id += kPieces[rng.below(std::size(kPieces))]; break;
      case 1: append_utf8(id, 0x20 + rng.below(0x5F)); break;            // printable ASCII
      case 2: append_utf8(id, 0x80 + rng.below(0x800 - 0x80)); break;    // 2 bytes
      case 3: append_utf8(id, 0x800 + rng.below(0xD800 - 0x800)); break; // 3 bytes
      default: append_utf8(id, 0x10000 + rng.below(0x100000)); break;    // 4 bytes
    }
  }
  return id;
}

std::shared_ptr<const db::Runtime> runtime_with_partition() {
  db::ResourceDef def;
  def.name = "things";
  def.versions[1] = {{"p", "string"}, {"n", "integer"}};
  def.keys = {{"p", "0"}, {"n", "1"}};
  def.next_key = 2;
  def.partitions = {{"byP", {"p"}}, {"byPN", {"p", "n"}}};
  return db::build_runtime(def, "some/db/").value();
}

TEST(KeysTest, EveryAllowedIdRoundTripsThroughItsKeys) {
  auto rt = runtime_with_partition();
  Rng rng{0x9E3779B97F4A7C15ull};
  std::size_t checked = 0, refused = 0;
  constexpr std::size_t kCases = 1'000'000;
  for (std::size_t i = 0; i < kCases; ++i) {
    const std::string id = candidate(rng);
    if (!db::check_id(id).ok()) {
      ++refused;
      continue;
    }
    const std::string key = db::data_key(*rt, id);
    ASSERT_EQ(db::id_of_key(key), id) << "case " << i << " key " << key;
    if (i % 8 == 0) {  // partition reference keys too (values percent-encoded, ids raw)
      const json doc = {{"p", candidate(rng)}, {"n", static_cast<std::int64_t>(rng.next() >> 1)}};
      for (const auto& ref : db::partition_keys(*rt, doc, id)) {
        ASSERT_EQ(db::id_of_key(ref), id) << "case " << i << " ref " << ref;
        ASSERT_TRUE(db::in_partition(*rt, doc, id, ref.substr(0, ref.rfind('/') + 1)));
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, kCases / 2);  // most candidates are ids: the property ran on them
  EXPECT_GT(refused, 0u);          // and the generator reaches past the rules ('/', > 255 bytes)
}

TEST(KeysTest, EverySingleAllowedCharacterIsAnIdAndTheRefusedOnesAreNamed) {
  auto rt = runtime_with_partition();
  for (std::uint32_t cp = 0; cp < 0x3000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string id = "a";
    append_utf8(id, cp);
    const bool control = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
    const bool invisible_reorder = (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    const Status s = db::check_id(id);
    if (cp == '/' || control || invisible_reorder) {
      EXPECT_EQ(s.code(), Code::kInvalidArgument) << "U+" << std::hex << cp;
      continue;
    }
    ASSERT_TRUE(s.ok()) << "U+" << std::hex << cp << ": " << s.to_string();
    EXPECT_EQ(db::id_of_key(db::data_key(*rt, id)), id);
  }
  EXPECT_TRUE(db::check_id(std::string(255, 'x')).ok());
  EXPECT_FALSE(db::check_id(std::string(256, 'x')).ok());
  EXPECT_FALSE(db::check_id("\xE2\x80\xAE" "evil").ok());  // U+202E RIGHT-TO-LEFT OVERRIDE
  EXPECT_FALSE(db::check_id("a\xC2\x85" "b").ok());         // U+0085 NEXT LINE (C1)
}

// --- end to end: the hostile ids on every store ---------------------------------------------------

class HostileIdsTest : public DbTest {};

TEST_P(HostileIdsTest, ListPageQueryCountAndExportFindEveryRecord) {
  ResourceConfig c;
  c.name = "things";
  c.attributes = {{"p", "string"}};
  c.partitions = {{"byP", {"p"}}};
  auto r = make(c);
  const std::vector<std::string> ids = {"id=1", "a=id=b", "id=", "=", "%", "%2F", "..a", "a..", "x id=y",
                                        "é=ü", "~", "a b", "id=id=id=", "\xF0\x9F\x98\x80=1", std::string(255, 'z')};
  for (const auto& id : ids) ASSERT_TRUE(r.insert({{"id", id}, {"p", "v"}}).ok()) << id;
  const std::set<std::string> want(ids.begin(), ids.end());

  auto listed = r.list_ids().value();
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), want);
  EXPECT_EQ(listed.size(), ids.size());
  std::set<std::string> docs;
  const auto all = r.list().value();
  for (const auto& d : all) docs.insert(d["id"].get<std::string>());
  EXPECT_EQ(docs, want);
  std::set<std::string> paged;
  PageRequest req;
  req.size = 4;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = r.page(req).value();
    for (const auto& d : page.items) EXPECT_TRUE(paged.insert(d["id"].get<std::string>()).second) << d["id"];
    if (page.next_cursor.empty()) break;
    req.cursor = page.next_cursor;
  }
  EXPECT_EQ(paged, want);
  std::set<std::string> queried;  // through the partition's references
  const auto found = r.query({{"p", "v"}}).value();
  for (const auto& d : found) queried.insert(d["id"].get<std::string>());
  EXPECT_EQ(queried, want);
  ListOptions in_v;
  in_v.partition = "byP";
  in_v.values = {{"p", "v"}};
  EXPECT_EQ(r.count(in_v).value(), ids.size());
  EXPECT_EQ(r.count().value(), ids.size());
  for (const auto& id : ids) EXPECT_EQ(r.get(id).value()["id"], id);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileIdsTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
