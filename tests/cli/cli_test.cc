// Runs the built `s3db` binary as a user would and checks exit codes, stderr and (JSON) output
// (helpers in cli_support.h).
#include "cli/cli_support.h"

#include <pugixml.hpp>

using namespace cli_test;

TEST(CliBinary, IsBuilt) {
  ASSERT_TRUE(fs::exists(cli_path())) << "s3db binary not found at " << cli_path()
                                      << " (build the s3db_cli target, or set S3DB_CLI)";
}

TEST(CliUsage, HelpListsCommandsAndExitsZero) {
  CliRun r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"create-resource", "insert", "import", "export", "query", "metrics", "bench"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
  CliRun sub = run({"bench", "--help"});
  EXPECT_EQ(sub.code, 0);
  EXPECT_NE(sub.out.find("--plot"), std::string::npos);
}

TEST(CliUsage, UsageErrorsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                              // no command
      {"frobnicate"},                                  // unknown command
      {"insert", "users"},                             // missing argument
      {"get"},                                         // missing arguments
      {"--concurrency", "0", "resources"},             // out of range
      {"--concurrency", "automatic", "resources"},     // neither auto nor a number
      {"bench", "--runs", "0"},                        // out of range
      {"bench", "nonsense"},                           // unknown scenario
      {"list", "users", "--limit", "many"},            // not a number
      {"insert", "users", "{not json"},                // bad JSON argument
      {"insert", "users", "[1,2]"},                    // JSON but not an object
      {"query", "users", "--where", "novalue"},        // bad --where
      {"list", "users", "--value", "country=PT"},      // --value without --partition
      {"--redis", "unix:///nowhere", "resources"},     // --redis without --global-concurrency
      {"--global-concurrency", "4", "resources"},      // --global-concurrency without --redis
      {"--global-concurrency", "0", "resources"},      // out of range
  };
  for (const auto& args : cases) {
    CliRun r = run(args);
    std::string joined;
    for (auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, 2) << joined << "\n" << r.err;
    expect_one_error_line(r);
    EXPECT_TRUE(r.out.empty()) << joined << r.out;
  }
}

// A Redis that cannot be reached: one line, exit 1 (an operation's failure, not a usage error),
// never the password, in the error or in --help with S3DB_REDIS_URL set.
TEST(CliUsage, AnUnreachableRedisIsOneLineWithoutItsPassword) {
  CliRun r = run({"--redis", "redis://user:Pa%3Fss%40w%2Frd%25x%3Ay@127.0.0.1:1/0", "--global-concurrency", "4",
                  "resources"});
  EXPECT_EQ(r.code, 1) << r.err;
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("redis://user:***@127.0.0.1:1/0"), std::string::npos) << r.err;
  for (const char* leak : {"Pa%3F", "Pa?ss", "w%2Frd", "x%3Ay"}) EXPECT_EQ(r.err.find(leak), std::string::npos) << r.err;
}

TEST(CliUsage, BadUrlsAreOneClearLineAndNeverLeakSecrets) {
  for (std::string url : {"ftp://example.com/bucket", "memory://x?bogus=1", "not a url",
                          "s3://AKIDEXAMPLE:SUPERSECRETVALUE@bucket?nope=1"}) {
    CliRun r = run({"--url", url, "resources"});
    EXPECT_EQ(r.code, 2) << url << ": " << r.err;
    expect_one_error_line(r);
    EXPECT_NE(r.err.find("--url"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("SUPERSECRETVALUE"), std::string::npos) << r.err;
  }
  // The unknown parameter is named.
  CliRun r = run({"--url", "memory://x?bogus=1", "resources"});
  EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;
  // S3DB_URL is read too.
  CliRun e = run({"resources"}, "", {{"S3DB_URL", "ftp://nowhere"}});
  EXPECT_EQ(e.code, 2) << e.err;
}

// A secret with characters that URLs reserve, and whether a text shows any 4-byte piece of it.
std::string cli_secret(char reserved) { return std::string("Zq9") + reserved + "Xj7Wk" + reserved + "5Vv8"; }
bool shows_piece(const std::string& secret, const std::string& text) {
  for (std::size_t i = 0; i + 4 <= secret.size(); ++i)
    if (text.find(secret.substr(i, 4)) != std::string::npos) return true;
  return false;
}

// Before the fix, --help printed S3DB_URL's value whole as the default of --url (issue 8, item 9).
TEST(CliSecrets, HelpNeverShowsTheSecretOfS3dbUrl) {
  const std::string secret = "Zq9/Xj7+Wk5Vv8Qp";
  for (const std::string& url : {"s3://AKID:" + secret + "@bucket-1/p",
                                 "http://AKID:" + secret + "@127.0.0.1:7480/b?session_token=" + secret,
                                 "s3://AKID:" + secret + "@Bad_Bucket@x?#"}) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"--help"}, {"resources", "--help"}, {"bench", "--help"}}) {
      CliRun r = run(args, "", {{"S3DB_URL", url}});
      EXPECT_EQ(r.code, 0) << r.err;
      EXPECT_FALSE(shows_piece(secret, r.out + r.err)) << url << "\n" << r.out << r.err;
    }
  }
  // The default is still shown, masked.
  CliRun r = run({"--help"}, "", {{"S3DB_URL", "s3://AKID:" + secret + "@bucket-1/p"}});
  EXPECT_NE(r.out.find("s3://AKID:***@bucket-1/p"), std::string::npos) << r.out;
}

TEST(CliSecrets, BadUrlErrorsNeverShowAPieceOfTheSecret) {
  for (char reserved : {'?', '@', '/', '%', ':', '#'}) {
    const std::string secret = cli_secret(reserved);
    for (const std::string& url : {"s3://AKID:" + secret + "@bucket-1?regoin=1", "http://AKID:" + secret + "@ho_st:7480/b",
                                   "http://AKID:" + secret + "@127.0.0.1:99999/b", "s3://AKID:" + secret + "@Bad_Bucket"}) {
      CliRun flag = run({"--url", url, "resources"});
      CliRun env = run({"resources"}, "", {{"S3DB_URL", url}});
      for (const CliRun* r : {&flag, &env}) {
        EXPECT_EQ(r->code, 2) << url << ": " << r->err;
        expect_one_error_line(*r);
        EXPECT_FALSE(shows_piece(secret, r->out + r->err)) << url << "\n" << r->err;
      }
    }
  }
}

TEST(CliSecrets, OperationErrorsAndBenchReportsNeverShowTheSecret) {
  const std::string secret = "Zq9/Xj7+Wk5Vv8Qp", token = "T0kQ/Rr8+Pp2Mm";
  // Nothing listens on loopback port 1: the request is refused at once, and not retried.
  const std::string url = "http://AKID:" + secret + "@127.0.0.1:1/b?max_retries=0";
  CliRun op = run({"--url", url, "resources"}, "", {{"AWS_SESSION_TOKEN", token}});
  EXPECT_EQ(op.code, 1) << op.err;
  expect_one_error_line(op);
  EXPECT_FALSE(shows_piece(secret, op.out + op.err)) << op.err;
  CliRun env = run({"--url", "http://127.0.0.1:1/b?max_retries=0", "--json", "resources"}, "",
                   {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", secret}, {"AWS_SESSION_TOKEN", token}});
  EXPECT_EQ(env.code, 1) << env.err;
  EXPECT_FALSE(shows_piece(secret, env.out + env.err)) << env.err;
  EXPECT_FALSE(shows_piece(token, env.out + env.err)) << env.err;
  // The overhead scenario never touches the store, but its reports name the URL.
  CliRun j = run({"--url", url, "bench", "overhead", "--ops", "1000", "--runs", "1", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_FALSE(shows_piece(secret, j.out + j.err)) << j.out;
  EXPECT_EQ(json::parse(j.out)["url"], "http://AKID:***@127.0.0.1:1/b?max_retries=0");
  TempDir d;
  const std::string svg = (d.path() / "plot.svg").string();
  CliRun t = run({"--url", url, "bench", "overhead", "--ops", "1000", "--runs", "1", "--plot", svg});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_FALSE(shows_piece(secret, t.out + t.err)) << t.out;
  EXPECT_FALSE(shows_piece(secret, slurp(svg)));
}

TEST(CliOps, OperationErrorsExitOne) {
  TempDir d;
  CliRun missing_resource = run({"--url", d.url(), "get", "users", "nope"});
  EXPECT_EQ(missing_resource.code, 1) << missing_resource.err;
  expect_one_error_line(missing_resource);
  EXPECT_NE(missing_resource.err.find("NotFound"), std::string::npos) << missing_resource.err;

  ASSERT_EQ(run(cat({"--url", d.url(), "create-resource", "users"}, kUserAttrs)).code, 0);
  CliRun missing_id = run({"--url", d.url(), "get", "users", "no-such-id"});
  EXPECT_EQ(missing_id.code, 1);
  expect_one_error_line(missing_id);

  // Validation failure from the library is an operation error naming the field.
  CliRun invalid = run({"--url", d.url(), "insert", "users", R"({"email":"a@b.co","age":-3})"});
  EXPECT_EQ(invalid.code, 1) << invalid.err;
  expect_one_error_line(invalid);
  EXPECT_NE(invalid.err.find("name"), std::string::npos) << invalid.err;

  // A duplicate id is AlreadyExists, never an overwrite.
  ASSERT_EQ(run({"--url", d.url(), "insert", "users", R"({"id":"u1","name":"Ann"})"}).code, 0);
  CliRun dup = run({"--url", d.url(), "insert", "users", R"({"id":"u1","name":"Bob"})"});
  EXPECT_EQ(dup.code, 1);
  EXPECT_NE(dup.err.find("AlreadyExists"), std::string::npos) << dup.err;
  CliRun still = run({"--url", d.url(), "--json", "get", "users", "u1"});
  EXPECT_EQ(json::parse(still.out)["name"], "Ann");
}

// A caller-chosen id may start with '-': after "--" it is a positional like any other; without
// "--" it is a usage error (exit 2), never a silently wrong lookup.
TEST(CliOps, IdsStartingWithADashNeedTheDoubleDash) {
  TempDir d;
  ASSERT_EQ(run(cat({"--url", d.url(), "create-resource", "users"}, kUserAttrs)).code, 0);
  ASSERT_EQ(run({"--url", d.url(), "insert", "users", R"({"id":"-dash","name":"Ann"})"}).code, 0);
  CliRun got = run({"--url", d.url(), "--json", "get", "users", "--", "-dash"});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(json::parse(got.out)["name"], "Ann");
  CliRun bare = run({"--url", d.url(), "get", "users", "-dash"});
  EXPECT_EQ(bare.code, 2) << bare.out;
  expect_one_error_line(bare);
}

TEST(CliRoundTrip, InsertGetListExportImportCountOnFileStore) {
  TempDir d;
  const std::string url = d.url();
  CliRun created = run(cat({"--url", url, "--json", "create-resource", "users", "--partition", "byCountry:country"},
                        kUserAttrs));
  ASSERT_EQ(created.code, 0) << created.err;
  json c = json::parse(created.out);
  EXPECT_EQ(c["name"], "users");
  EXPECT_EQ(c["schema_version"], 1);
  EXPECT_TRUE(c["partitions"].contains("byCountry"));

  std::vector<json> inserted;
  const std::vector<std::string> docs = {R"({"name":"Ann","email":"ann@example.com","age":31,"country":"PT"})",
                                         R"({"name":"Bob","email":"bob@example.com","age":42,"country":"FR"})",
                                         R"({"name":"Cid","age":27,"country":"PT"})"};
  for (const auto& doc : docs) {
    CliRun r = run({"--url", url, "--json", "insert", "users", doc});
    ASSERT_EQ(r.code, 0) << r.err;
    inserted.push_back(json::parse(r.out));
    ASSERT_TRUE(inserted.back()["id"].is_string());
  }
  // Text mode prints the id; stdin works with "-".
  CliRun from_stdin = run({"--url", url, "insert", "users", "-"}, R"({"name":"Dee","country":"ES"})");
  ASSERT_EQ(from_stdin.code, 0) << from_stdin.err;
  const std::string dee_id = from_stdin.out.substr(0, from_stdin.out.find('\n'));
  EXPECT_FALSE(dee_id.empty());

  for (const auto& doc : inserted) {
    CliRun g = run({"--url", url, "--json", "get", "users", doc["id"].get<std::string>()});
    ASSERT_EQ(g.code, 0) << g.err;
    json got = json::parse(g.out);
    for (auto& [k, v] : doc.items()) EXPECT_EQ(got[k], v) << k;
  }

  CliRun all = run({"--url", url, "--json", "list", "users"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(json::parse(all.out).size(), 4u);
  CliRun limited = run({"--url", url, "--json", "list", "users", "--limit", "2"});
  EXPECT_EQ(json::parse(limited.out).size(), 2u);
  CliRun text_list = run({"--url", url, "list", "users"});
  EXPECT_EQ(lines(text_list.out), 4u);  // JSON Lines
  CliRun part = run({"--url", url, "--json", "list", "users", "--partition", "byCountry", "--value", "country=PT"});
  ASSERT_EQ(part.code, 0) << part.err;
  EXPECT_EQ(json::parse(part.out).size(), 2u);
  CliRun counted_part = run({"--url", url, "--json", "count", "users", "--partition", "byCountry", "--value", "country=FR"});
  EXPECT_EQ(json::parse(counted_part.out)["count"], 1);

  CliRun q = run({"--url", url, "--json", "query", "users", "--where", "country=PT", "--where", "age=31"});
  ASSERT_EQ(q.code, 0) << q.err;
  json qj = json::parse(q.out);
  ASSERT_EQ(qj.size(), 1u);
  EXPECT_EQ(qj[0]["name"], "Ann");

  const fs::path dump = d.path() / "users.jsonl";
  CliRun exported = run({"--url", url, "--json", "export", "users", dump.string()});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(json::parse(exported.out)["exported"], 4);
  EXPECT_EQ(lines(slurp(dump)), 4u);
  CliRun to_stdout = run({"--url", url, "export", "users"});
  EXPECT_EQ(to_stdout.out, slurp(dump));  // stdout carries the data and nothing else

  ASSERT_EQ(run(cat({"--url", url, "create-resource", "copy"}, kUserAttrs)).code, 0);
  CliRun imported = run({"--url", url, "--json", "import", "copy", dump.string()});
  ASSERT_EQ(imported.code, 0) << imported.err;
  json ij = json::parse(imported.out);
  EXPECT_EQ(ij["imported"], 4);
  EXPECT_EQ(ij["errors"], 0);
  EXPECT_TRUE(imported.err.empty()) << "no progress bar when stderr is not a terminal: " << imported.err;

  CliRun counted = run({"--url", url, "--json", "count", "copy"});
  ASSERT_EQ(counted.code, 0) << counted.err;
  EXPECT_EQ(json::parse(counted.out)["count"], 4);
  CliRun copied = run({"--url", url, "--json", "get", "copy", inserted[1]["id"].get<std::string>()});
  ASSERT_EQ(copied.code, 0) << copied.err;
  EXPECT_EQ(json::parse(copied.out)["email"], "bob@example.com");

  CliRun res = run({"--url", url, "--json", "resources"});
  ASSERT_EQ(res.code, 0);
  json names = json::array();
  const json listed = json::parse(res.out);  // kept alive: the loop iterates into it
  for (const auto& r : listed["resources"]) names.push_back(r["name"]);
  EXPECT_EQ(names, json::array({"copy", "users"}));
}

TEST(CliRoundTrip, UpdatePatchDelete) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kUserAttrs)).code, 0);
  ASSERT_EQ(run({"--url", url, "insert", "users", R"({"id":"a","name":"Ann","age":30})"}).code, 0);
  CliRun u = run({"--url", url, "--json", "update", "users", "a", R"({"age":31})"});
  ASSERT_EQ(u.code, 0) << u.err;
  EXPECT_EQ(json::parse(u.out)["age"], 31);
  EXPECT_EQ(json::parse(run({"--url", url, "--json", "get", "users", "a"}).out)["age"], 31);
  CliRun del = run({"--url", url, "--json", "delete", "users", "a"});
  ASSERT_EQ(del.code, 0) << del.err;
  EXPECT_EQ(json::parse(del.out)["deleted"], json::array({"a"}));
  EXPECT_EQ(json::parse(del.out)["missing"], json::array());
  EXPECT_EQ(run({"--url", url, "get", "users", "a"}).code, 1);
}

// A number JSON cannot hold (1e400) is malformed JSON like a syntax error: a usage error naming
// it, never a raw library exception; in an import it is one failed line.
TEST(CliJson, ANumberOverflowIsInvalidJson) {
  CliRun r = run({"--url", "memory://overflow", "insert", "users", R"({"n":1e400})"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("is not valid JSON: number overflow parsing '1e400'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  CliRun imp = run({"--url", "memory://overflow", "--json", "import", "users", "-", "--attr", "n=number"},
                   "{\"n\":1}\n{\"n\":1e400}\n{\"n\":2}\n");
  EXPECT_EQ(imp.code, 1) << imp.err;
  EXPECT_EQ(json::parse(imp.out)["imported"], 2);
  EXPECT_NE(imp.err.find("import line 2: InvalidArgument: restore users: not valid JSON: number overflow"),
            std::string::npos) << imp.err;
}

TEST(CliImport, CreatesTheResourceFirstWhenGivenADefinitionSoMemoryStoresCanBeFilled) {
  const std::string input = "{\"id\":\"a\",\"name\":\"Ann\",\"age\":3}\n{\"name\":\"Bob\"}\n{\"age\":-1}\n";
  CliRun r = run({"--url", "memory://import-create", "--json", "import", "users", "-", "--attr", "name=string|required",
                  "--attr", "age=integer|min:0"},
                 input);
  EXPECT_EQ(r.code, 1) << r.err;  // the third line breaks two rules
  json j = json::parse(r.out);
  EXPECT_EQ(j["imported"], 2);
  EXPECT_EQ(j["errors"], 1);
  EXPECT_NE(r.err.find("import line 3: InvalidArgument: write users/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("age (min:0), name (required)"), std::string::npos) << r.err;
  // Without a definition the resource must exist: memory:// starts empty in every process.
  CliRun missing = run({"--url", "memory://import-create", "import", "users", "-"}, input);
  EXPECT_EQ(missing.code, 1) << missing.err;
  EXPECT_NE(missing.err.find("users"), std::string::npos) << missing.err;
  // A bad definition is a usage error before any line is read.
  EXPECT_EQ(run({"--url", "memory://import-create", "import", "users", "-", "--attr", "name"}, input).code, 2);
}

TEST(CliImport, BadLinesAreCountedAndFailTheCommand) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kUserAttrs)).code, 0);
  const std::string input = "{\"name\":\"Ann\"}\n\n{broken\n[1]\n{\"name\":\"Bob\"}\n{\"age\":3}\n";
  CliRun r = run({"--url", url, "--json", "import", "users", "-"}, input);
  EXPECT_EQ(r.code, 1);
  json j = json::parse(r.out);
  EXPECT_EQ(j["imported"], 2);
  EXPECT_EQ(j["errors"], 3);  // broken JSON, not an object, missing required name
  EXPECT_EQ(j["lines"], 6);
  EXPECT_EQ(j["last_line"], 6);
  ASSERT_EQ(j["failed"].size(), 3u) << j;
  EXPECT_EQ(j["failed"][0]["line"], 3);
  EXPECT_EQ(j["failed"][1]["line"], 4);
  EXPECT_EQ(j["failed"][2]["line"], 6);
  EXPECT_EQ(j["failed"][2]["code"], "InvalidArgument");
  expect_error_lines(r, 4);  // one per failed line, then the summary
  EXPECT_NE(r.err.find("import line 3: InvalidArgument: restore users: not valid JSON: parse error at line 1, column 2"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("import line 4: InvalidArgument: restore users: the document is not a JSON object"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("import line 6: InvalidArgument:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 of 6 lines failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_EQ(json::parse(run({"--url", url, "--json", "count", "users"}).out)["count"], 2);
}

TEST(CliMetrics, JsonAndPrometheus) {
  CliRun j = run({"--json", "metrics"});
  ASSERT_EQ(j.code, 0) << j.err;
  json m = json::parse(j.out)["metrics"];
  EXPECT_TRUE(m["latency"].contains("queue_wait"));
  EXPECT_TRUE(m["latency"]["execution"].contains("p99_ms"));
  EXPECT_GE(m["processed"].get<int>(), 1);  // the catalog read
  EXPECT_EQ(m["errors"]["rate"], 0.0);
  EXPECT_EQ(m["concurrency"]["current"], m["stats"]["concurrency"]);
  EXPECT_TRUE(m["concurrency"].contains("avg"));
  EXPECT_EQ(m["decisions"]["total"], 0);
  EXPECT_TRUE(m["decisions"]["last"].is_null());
  EXPECT_TRUE(m["stats"].contains("processed"));
  // Both protections are off unless the pool options turn them on: present, and null.
  EXPECT_TRUE(m.contains("breaker") && m["breaker"].is_null()) << j.out;
  EXPECT_TRUE(m.contains("retry_budget") && m["retry_budget"].is_null()) << j.out;
  CliRun p = run({"metrics"});
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(p.out.find("# TYPE"), std::string::npos) << p.out;
}

// --concurrency N|auto: auto tunes the pool (start value from memory, within the tuner's bounds);
// the flag wins over the URL's concurrency=; the URL's breaker / retry_budget reach the pool.
TEST(CliConcurrency, AutoNumberAndUrlPoolParams) {
  auto pool_metrics = [](const std::vector<std::string>& args) {
    CliRun r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.code == 0 ? json::parse(r.out)["metrics"] : json();
  };
  const json tuned = pool_metrics({"--concurrency", "auto", "--json", "metrics"});
  EXPECT_GE(tuned["concurrency"]["current"].get<int>(), 2);
  EXPECT_LE(tuned["concurrency"]["current"].get<int>(), 256);
  EXPECT_EQ(pool_metrics({"--url", "memory://?concurrency=9", "--concurrency", "3", "--json", "metrics"})["concurrency"]["current"], 3);
  EXPECT_EQ(pool_metrics({"--url", "memory://?concurrency=9", "--json", "metrics"})["concurrency"]["current"], 9);
  const json guarded = pool_metrics({"--url", "memory://?breaker=on&retry_budget=120", "--json", "metrics"});
  EXPECT_EQ(guarded["breaker"]["state"], "closed");
  EXPECT_EQ(guarded["retry_budget"]["tokens"], 120);
  CliRun bad = run({"--url", "memory://?retry_budget=lots", "metrics"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("'retry_budget'"), std::string::npos) << bad.err;
}

TEST(CliBench, ConcurrencyAutoIsReported) {
  CliRun r = run({"--concurrency", "auto", "bench", "overhead", "--ops", "200", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["concurrency"], "auto");
}

TEST(CliBench, SeedJsonShape) {
  CliRun r = run({"bench", "--ops", "200", "--runs", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["scenario"], "seed");
  EXPECT_EQ(j["ops"], 200);
  EXPECT_EQ(j["concurrency"], 50);
  EXPECT_EQ(j["runs"], 1);
  EXPECT_TRUE(j["url"].get<std::string>().rfind("memory://", 0) == 0);
  ASSERT_EQ(j["arms"].size(), 4u);
  const char* names[] = {"batched", "unbounded", "pool", "pool-json"};
  for (int i = 0; i < 4; ++i) {
    const json& a = j["arms"][static_cast<std::size_t>(i)];
    EXPECT_EQ(a["name"], names[i]);
    for (const char* k : {"duration_ms", "ops_per_sec", "avg_latency_ms", "peak_rss_mb"}) {
      ASSERT_TRUE(a[k].is_number()) << k;
      EXPECT_GT(a[k].get<double>(), 0) << names[i] << " " << k;
    }
    EXPECT_EQ(a["errors"], 0) << a;
    EXPECT_EQ(a["ops"], 200);
  }
  EXPECT_TRUE(j["improvement"].contains("batched"));
  EXPECT_FALSE(j["improvement"].contains("pool-json"));  // the pool too: not an alternative to it
  EXPECT_EQ(j["seed_reference"]["current_ms"], 5953);
  EXPECT_EQ(j["seed_reference"]["pool_ms"], 3830);
}

TEST(CliBench, PlotIsAnSvgWithBothChartsPerArm) {
  TempDir d;
  const fs::path svg = d.path() / "bench.svg";
  CliRun r = run({"bench", "--ops", "200", "--plot", svg.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("batched"), std::string::npos);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file(svg.c_str())) << "not well-formed XML";
  pugi::xml_node root = doc.child("svg");
  ASSERT_TRUE(root);
  std::map<std::string, int> per_arm;
  for (auto x : doc.select_nodes("//polyline")) per_arm[x.node().attribute("data-name").value()]++;
  EXPECT_EQ(per_arm["batched"], 2);  // throughput and RSS
  EXPECT_EQ(per_arm["unbounded"], 2);
  EXPECT_EQ(per_arm["pool"], 2);
  EXPECT_EQ(per_arm["pool-json"], 2);
  EXPECT_GE(doc.select_nodes("//text").size(), 20u);  // titles, axis labels, ticks, legend
}

TEST(CliBench, MemoryScenarioPoolBoundsOperationsInFlight) {
  CliRun r = run({"--concurrency", "4", "bench", "memory", "--ops", "400", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["scenario"], "memory");
  ASSERT_EQ(j["arms"].size(), 2u);
  EXPECT_EQ(j["arms"][0]["name"], "no_pool");
  EXPECT_EQ(j["arms"][1]["name"], "pool");
  EXPECT_EQ(j["arms"][1]["errors"], 0);
  EXPECT_GE(j["arms"][1]["peak_in_flight"].get<int>(), 1);
  EXPECT_LE(j["arms"][1]["peak_in_flight"].get<int>(), 4);  // the pool's limit holds
  EXPECT_EQ(j["arms"][1]["requests"], 100);
  EXPECT_EQ(j["arms"][1]["items_per_request"], 4);
}

TEST(CliBench, OverheadScenarioShape) {
  CliRun r = run({"bench", "overhead", "--ops", "2000", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["arms"].size(), 3u);
  for (auto& a : j["arms"]) {
    EXPECT_EQ(a["errors"], 0);
    EXPECT_TRUE(a["ns_per_op"].is_number());
  }
}
