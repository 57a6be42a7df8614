// `s3db content put|get`: a binary file goes in and comes out byte for byte (files and
// stdin/stdout), --json reports it, a directory as FILE is a usage error (2) and a missing record
// an operation error (1) that leaves the output file alone.
#include "cli/cli_support.h"

using namespace cli_test;

namespace {

std::string binary_blob() {
  std::string s;
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>((i * 7 + round) & 0xFF));
  }
  return s;  // 10,240 bytes: NULs, CR/LF, 0x80..0xFF
}

void write_file(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// A database holding users/"u1".
std::string setup(const TempDir& d) {
  const std::string url = d.url();
  EXPECT_EQ(run(cat({"--url", url, "create-resource", "users"}, kUserAttrs)).code, 0);
  EXPECT_EQ(run({"--url", url, "insert", "users", R"({"id":"u1","name":"Ann"})"}).code, 0);
  return url;
}

}  // namespace

TEST(CliContent, PutThenGetAFileByteForByte) {
  TempDir d;
  const std::string url = setup(d);
  const std::string blob = binary_blob();
  const fs::path in = d.path() / "in.bin", out = d.path() / "out.bin";
  write_file(in, blob);

  CliRun put = run({"--url", url, "--json", "content", "put", "users", "u1", in.string(), "--type", "image/png"});
  ASSERT_EQ(put.code, 0) << put.err;
  EXPECT_TRUE(put.err.empty()) << put.err;
  json p = json::parse(put.out);
  EXPECT_EQ(p["id"], "u1");
  EXPECT_EQ(p["size"], blob.size());
  EXPECT_EQ(p["content_type"], "image/png");
  EXPECT_FALSE(p["etag"].get<std::string>().empty());

  CliRun get = run({"--url", url, "--json", "content", "get", "users", "u1", out.string()});
  ASSERT_EQ(get.code, 0) << get.err;
  EXPECT_EQ(slurp(out), blob);
  json g = json::parse(get.out);
  EXPECT_EQ(g, p);  // same id, size, type and ETag

  CliRun text = run({"--url", url, "content", "get", "users", "u1", out.string()});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out, "wrote 10240 bytes (image/png) to '" + out.string() + "'\n");
  // The record itself is unchanged.
  CliRun rec = run({"--url", url, "--json", "get", "users", "u1"});
  ASSERT_EQ(rec.code, 0) << rec.err;
  EXPECT_EQ(json::parse(rec.out)["name"], "Ann");
}

TEST(CliContent, StdinAndStdoutForms) {
  TempDir d;
  const std::string url = setup(d);
  const std::string blob = binary_blob();
  CliRun put = run({"--url", url, "content", "put", "users", "u1", "-"}, blob);
  ASSERT_EQ(put.code, 0) << put.err;
  EXPECT_EQ(put.out, "stored 10240 bytes (application/octet-stream)\n");
  CliRun get = run({"--url", url, "content", "get", "users", "u1", "-"});
  ASSERT_EQ(get.code, 0) << get.err;
  EXPECT_TRUE(get.err.empty()) << get.err;
  EXPECT_EQ(get.out, blob);  // nothing but the bytes on stdout

  // Empty stdin is empty content, not an error.
  ASSERT_EQ(run({"--url", url, "content", "put", "users", "u1", "-"}, "").code, 0);
  CliRun empty = run({"--url", url, "content", "get", "users", "u1", "-"});
  ASSERT_EQ(empty.code, 0) << empty.err;
  EXPECT_EQ(empty.out, "");

  // --json with stdout as FILE: stdout is the content's, so that is a usage error.
  CliRun both = run({"--url", url, "--json", "content", "get", "users", "u1", "-"});
  EXPECT_EQ(both.code, 2);
  expect_one_error_line(both);
}

TEST(CliContent, DirectoryAsFileIsAUsageError) {
  TempDir d;
  const std::string url = setup(d);
  const std::string dir = d.path().string();
  for (const char* verb : {"put", "get"}) {
    CliRun r = run({"--url", url, "content", verb, "users", "u1", dir});
    EXPECT_EQ(r.code, 2) << verb << ": " << r.out;
    expect_one_error_line(r);
    EXPECT_NE(r.err.find("'" + dir + "' is a directory"), std::string::npos) << r.err;
  }
  CliRun missing = run({"--url", url, "content", "put", "users", "u1", (d.path() / "nope").string()});
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(run({"--url", url, "content", "users", "u1"}).code, 2);  // no put/get
}

TEST(CliContent, MissingRecordOrContentIsExitOneAndLeavesTheFileAlone) {
  TempDir d;
  const std::string url = setup(d);
  const fs::path in = d.path() / "in.bin", out = d.path() / "out.bin";
  write_file(in, "bytes");
  write_file(out, "keep");

  CliRun put = run({"--url", url, "content", "put", "users", "ghost", in.string()});
  EXPECT_EQ(put.code, 1);
  expect_one_error_line(put);
  EXPECT_NE(put.err.find("'ghost'"), std::string::npos) << put.err;

  CliRun none = run({"--url", url, "content", "get", "users", "u1", out.string()});  // u1 has no content
  EXPECT_EQ(none.code, 1);
  expect_one_error_line(none);
  EXPECT_NE(none.err.find("no content"), std::string::npos) << none.err;
  EXPECT_EQ(slurp(out), "keep");

  CliRun bad_type = run({"--url", url, "content", "put", "users", "u1", in.string(), "--type", "nonsense"});
  EXPECT_EQ(bad_type.code, 1);
  expect_one_error_line(bad_type);
}

TEST(CliContent, DeleteOfTheRecordDeletesItsContent) {
  TempDir d;
  const std::string url = setup(d);
  ASSERT_EQ(run({"--url", url, "content", "put", "users", "u1", "-"}, "abc").code, 0);
  ASSERT_EQ(run({"--url", url, "delete", "users", "u1"}).code, 0);
  ASSERT_EQ(run({"--url", url, "insert", "users", R"({"id":"u1","name":"Bob"})"}).code, 0);
  EXPECT_EQ(run({"--url", url, "content", "get", "users", "u1", "-"}).code, 1);
}
