// storage/s3/digest.h: the one home of the digests (SigV4's SHA-256 and HMAC, the embedded
// clients' MD5 ETags, Content-MD5) and base64, checked against published test vectors.
#include "storage/s3/digest.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace s3db::s3 {
namespace {

TEST(Digest, Md5HexIsTheSinglePartETag) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");  // RFC 1321 test suite
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("The quick brown fox jumps over the lazy dog"), "9e107d9d372bb6826bd81d3542a419d6");
}

TEST(Digest, Sha256) {
  EXPECT_EQ(sha256_hex(""), kEmptySha256);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  EXPECT_EQ(sha256("abc").size(), 32u);
  EXPECT_EQ(encoding::to_hex(sha256("abc")), sha256_hex("abc"));
}

TEST(Digest, HmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(encoding::to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, Md5AndBase64) {
  EXPECT_EQ(md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(md5_base64("abc"), "kAFQmDzST7DWlj99KOF/cg==");
  std::string out;
  ASSERT_TRUE(base64_decode(base64_encode("héllo!"), out));
  EXPECT_EQ(out, "héllo!");
  EXPECT_FALSE(base64_decode("abc", out));
}

TEST(Digest, EachThreadGetsTheSameAnswers) {
  // One digest context per thread: interleaved MD5 and SHA-256 on many threads stay exact.
  std::vector<std::thread> threads;
  std::vector<std::set<std::string>> seen(4);
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&seen, t] {
      for (int i = 0; i < 200; ++i) {
        seen[t].insert(md5_hex("abc"));
        seen[t].insert(sha256_hex("abc"));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& s : seen) {
    EXPECT_EQ(s, (std::set<std::string>{"900150983cd24fb0d6963f7d28e17f72",
                                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}));
  }
}

}  // namespace
}  // namespace s3db::s3
