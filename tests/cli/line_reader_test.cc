// LineReader on its own: line ends, the length cap at its exact boundary and across read
// buffers, read errors and stop requests — with a scripted read function.
#include "line_reader.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

using s3db::cli::LineReader;
using s3db::cli::ReadResult;
using Kind = LineReader::Kind;

namespace {

// Hands out `data` in reads of at most `chunk` bytes, then the scripted `tail` results.
struct ScriptedInput {
  std::string data;
  std::size_t chunk = 7;
  std::deque<ReadResult> tail;
  std::size_t pos = 0;
  std::size_t reads = 0;

  ReadResult operator()(char* buf, std::size_t size) {
    ++reads;
    if (pos < data.size()) {
      const std::size_t n = std::min({size, chunk, data.size() - pos});
      std::memcpy(buf, data.data() + pos, n);
      pos += n;
      return {n, 0, false};
    }
    if (tail.empty()) return {};
    ReadResult r = tail.front();
    tail.pop_front();
    return r;
  }
};

struct Got {
  Kind kind;
  std::uint64_t number;
  std::string text;
  std::uint64_t length;
};

std::vector<Got> read_all(LineReader& reader) {
  std::vector<Got> out;
  for (int guard = 0; guard < 10000; ++guard) {
    auto l = reader.next();
    out.push_back({l.kind, l.number, std::string(l.text), l.length});
    if (l.kind != Kind::kLine && l.kind != Kind::kTooLong) break;
  }
  return out;
}

std::vector<Got> lines_of(std::string data, std::size_t max, std::size_t chunk = 7, std::size_t buffer = 5) {
  auto input = std::make_shared<ScriptedInput>();
  input->data = std::move(data);
  input->chunk = chunk;
  LineReader reader([input](char* b, std::size_t n) { return (*input)(b, n); }, max, buffer);
  return read_all(reader);
}

}  // namespace

TEST(LineReader, LineEndsEmptyLinesAndAFinalLineWithoutNewline) {
  auto got = lines_of("a\r\n\nbc\r\r\n\r\nlast", 100);
  ASSERT_EQ(got.size(), 6u);
  const std::vector<std::string> texts = {"a", "", "bc\r", "", "last"};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(got[i].kind, Kind::kLine) << i;
    EXPECT_EQ(got[i].number, i + 1);
    EXPECT_EQ(got[i].text, texts[i]) << i;
  }
  EXPECT_EQ(got[5].kind, Kind::kEnd);
  EXPECT_EQ(got[5].number, 5u);
}

TEST(LineReader, InputEndingWithNewlineHasNoExtraLine) {
  auto got = lines_of("x\ny\n", 100);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].text, "y");
  EXPECT_EQ(got[2].kind, Kind::kEnd);
  auto empty = lines_of("", 100);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].kind, Kind::kEnd);
  EXPECT_EQ(empty[0].number, 0u);
}

TEST(LineReader, CapIsExactAndTheCarriageReturnOfCrlfDoesNotCount) {
  const std::string at_cap(10, 'a'), over(11, 'b');
  for (std::size_t chunk : {1, 3, 64}) {
    auto got = lines_of(at_cap + "\n" + over + "\n" + at_cap + "\r\n" + over + "\r\n" + over + "\n" + "ok", 10, chunk);
    ASSERT_EQ(got.size(), 7u) << chunk;
    EXPECT_EQ(got[0].kind, Kind::kLine);
    EXPECT_EQ(got[0].text, at_cap);
    EXPECT_EQ(got[1].kind, Kind::kTooLong);
    EXPECT_EQ(got[1].number, 2u);
    EXPECT_EQ(got[1].length, 11u);
    EXPECT_EQ(got[2].kind, Kind::kLine) << "10 bytes + CRLF is within a cap of 10";
    EXPECT_EQ(got[2].text, at_cap);
    EXPECT_EQ(got[3].kind, Kind::kTooLong);
    EXPECT_EQ(got[4].kind, Kind::kTooLong);
    EXPECT_EQ(got[5].kind, Kind::kLine);
    EXPECT_EQ(got[5].number, 6u);
    EXPECT_EQ(got[5].text, "ok");
    EXPECT_EQ(got[6].kind, Kind::kEnd);
  }
}

TEST(LineReader, LongLineIsSkippedAcrossManyReadsAndAFinalOneIsReported) {
  const std::string huge(100000, 'z');
  auto got = lines_of("first\n" + huge + "\nnext\n" + huge, 64, 4096, 1024);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[1].kind, Kind::kTooLong);
  EXPECT_EQ(got[1].length, huge.size());
  EXPECT_EQ(got[2].text, "next");
  EXPECT_EQ(got[3].kind, Kind::kTooLong);  // no newline at the end, still a line
  EXPECT_EQ(got[3].number, 4u);
  EXPECT_EQ(got[4].kind, Kind::kEnd);
}

TEST(LineReader, ReadErrorPartWayEndsWithTheErrorAndTheLastCompleteLine) {
  auto input = std::make_shared<ScriptedInput>();
  input->data = "one\ntwo\nthr";  // "thr" is cut short by the error
  input->tail = {ReadResult{0, EIO, false}};
  LineReader reader([input](char* b, std::size_t n) { return (*input)(b, n); }, 100, 4);
  auto got = read_all(reader);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].text, "two");
  EXPECT_EQ(got[2].kind, Kind::kError);
  EXPECT_EQ(got[2].number, 2u);
  EXPECT_EQ(reader.number(), 2u);
  EXPECT_EQ(reader.next().kind, Kind::kEnd);  // finished: no more reads
  const std::size_t reads = input->reads;
  EXPECT_EQ(reader.next().kind, Kind::kEnd);
  EXPECT_EQ(input->reads, reads);
}

TEST(LineReader, StopRequestEndsReading) {
  auto input = std::make_shared<ScriptedInput>();
  input->data = "a\nb\npartial";
  input->tail = {ReadResult{0, 0, true}};
  LineReader reader([input](char* b, std::size_t n) { return (*input)(b, n); }, 100, 64);
  auto got = read_all(reader);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].kind, Kind::kStopped);
  EXPECT_EQ(reader.number(), 2u);
  EXPECT_EQ(reader.consumed(), input->data.size());
}
