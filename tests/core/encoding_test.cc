// core/encoding.h: UTF-8 validation over every byte class and edge, hex and percent-encoding with
// their malformed inputs, and round-trip properties (rapidcheck).
#include "core/encoding.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <string>
#include <vector>

namespace s3db::encoding {
namespace {

// UTF-8 of one code point (any value up to 0x7FFFFFFF, so that invalid ones can be built too).
std::string utf8(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | cp >> 6);
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | cp >> 12);
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | cp >> 18);
    s += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

TEST(Utf8, AcceptsEveryLengthAtItsBounds) {
  for (std::uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    EXPECT_TRUE(valid_utf8(utf8(cp))) << std::hex << cp;
    EXPECT_TRUE(valid_utf8("ascii before " + utf8(cp) + " and after")) << std::hex << cp;
  }
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(valid_utf8("é ключ 🎉"));
}

TEST(Utf8, RejectsOverlongForms) {
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));              // '/' in two bytes
  EXPECT_FALSE(valid_utf8("\xC1\xBF"));              // U+7F in two bytes
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));          // '/' in three
  EXPECT_FALSE(valid_utf8("\xE0\x9F\xBF"));          // U+7FF in three
  EXPECT_FALSE(valid_utf8("\xF0\x80\x80\xAF"));      // '/' in four
  EXPECT_FALSE(valid_utf8("\xF0\x8F\xBF\xBF"));      // U+FFFF in four
}

TEST(Utf8, RejectsSurrogatesAndCodePointsAboveTheLast) {
  EXPECT_FALSE(valid_utf8(utf8(0xD800)));
  EXPECT_FALSE(valid_utf8(utf8(0xDBFF) + utf8(0xDC00)));  // a UTF-16 pair written as CESU-8
  EXPECT_FALSE(valid_utf8(utf8(0xDFFF)));
  EXPECT_FALSE(valid_utf8(utf8(0x110000)));
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(valid_utf8("\xF7\xBF\xBF\xBF"));  // U+1FFFFF
}

TEST(Utf8, RejectsBytesThatNeverAppear) {
  for (int b : {0xF8, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF}) {
    EXPECT_FALSE(valid_utf8(std::string(1, static_cast<char>(b)) + "\x80\x80\x80\x80\x80")) << b;
  }
}

TEST(Utf8, RejectsStrayAndMissingContinuationBytes) {
  EXPECT_FALSE(valid_utf8("\x80"));
  EXPECT_FALSE(valid_utf8("a\xBF"));
  EXPECT_FALSE(valid_utf8("\xC3"));               // truncated at the end
  EXPECT_FALSE(valid_utf8("\xE2\x82"));
  EXPECT_FALSE(valid_utf8("\xF0\x9F\x8E"));
  EXPECT_FALSE(valid_utf8("\xC3" "a"));            // lead byte followed by ASCII
  EXPECT_FALSE(valid_utf8("\xE2\x82" "a"));
  EXPECT_FALSE(valid_utf8("\xF0\x9F\x8E\xC3\xA9"));  // a new lead where a continuation belongs
}

TEST(Utf8, ChecksBytesAfterTheAsciiFastPath) {
  // Eight ASCII bytes are skipped at a time: the bad byte may sit at any offset after them.
  for (std::size_t pad = 0; pad < 20; ++pad) {
    EXPECT_FALSE(valid_utf8(std::string(pad, 'a') + "\xFF" + std::string(9, 'b'))) << pad;
    EXPECT_FALSE(valid_utf8(std::string(pad, 'a') + "\xC3")) << pad;
    EXPECT_TRUE(valid_utf8(std::string(pad, 'a') + "\xC3\xA9" + std::string(pad, 'b'))) << pad;
  }
}

TEST(Utf8, AgreesWithTheDefinitionOnEveryShortSequence) {
  // Every 1- and 2-byte string, and every 3-byte string with a lead byte: valid exactly when
  // it is the shortest encoding of a scalar value, as re-encoding it tells.
  auto reference = [](const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      const std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
      if (len == 0 || i + len > s.size()) return false;
      std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
      for (std::size_t k = 1; k < len; ++k) cp = cp << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || utf8(cp) != s.substr(i, len)) return false;
      i += len;
    }
    return true;
  };
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(valid_utf8(s), reference(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(valid_utf8(s), reference(s)) << a << " " << b;
      if (a < 0xE0) continue;
      for (int c = 0x70; c < 0xC8; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(valid_utf8(s), reference(s)) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8, LengthCountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("é"), 1u);
  EXPECT_EQ(utf8_length("日本"), 2u);
  EXPECT_EQ(utf8_length("a🎉b"), 3u);
}

TEST(Hex, EncodesLowerCaseByDefault) {
  EXPECT_EQ(to_hex(""), "");
  EXPECT_EQ(to_hex(std::string("\x00\x01\x7F\x80\xAB\xFF", 6)), "00017f80abff");
  EXPECT_EQ(to_hex("\xAB\xCD", HexCase::kUpper), "ABCD");
}

TEST(Hex, DecodesOnlyWhatToHexWrites) {
  EXPECT_EQ(from_hex(""), "");
  EXPECT_EQ(from_hex("00017f80abff"), std::string("\x00\x01\x7F\x80\xAB\xFF", 6));
  EXPECT_FALSE(from_hex("abc").has_value());   // odd length
  EXPECT_FALSE(from_hex("AB").has_value());    // upper case: not to_hex's spelling
  EXPECT_FALSE(from_hex("0g").has_value());
  EXPECT_FALSE(from_hex("g0").has_value());
  EXPECT_FALSE(from_hex("0 ").has_value());
  EXPECT_FALSE(from_hex("-1").has_value());
}

TEST(Hex, ByteAtAPosition) {
  EXPECT_EQ(hex_byte("%2f", 1), 0x2F);
  EXPECT_EQ(hex_byte("%2F", 1), 0x2F);
  EXPECT_EQ(hex_byte("x00", 1), 0);
  EXPECT_EQ(hex_byte("%2", 1), -1);   // ends after one digit
  EXPECT_EQ(hex_byte("%", 1), -1);    // ends before
  EXPECT_EQ(hex_byte("", 5), -1);     // position past the end
  EXPECT_EQ(hex_byte("%g0", 1), -1);
  EXPECT_EQ(hex_byte("%0g", 1), -1);
  EXPECT_EQ(hex_byte("%:0", 1), -1);  // ':' follows '9', '@' precedes 'A', '`' precedes 'a'
  EXPECT_EQ(hex_byte("%@0", 1), -1);
  EXPECT_EQ(hex_byte("%`0", 1), -1);
}

TEST(ByteSet, UnreservedIsRfc3986) {
  std::string kept;
  for (int c = 0; c < 256; ++c) {
    if (kUnreserved.contains(static_cast<unsigned char>(c))) kept += static_cast<char>(c);
  }
  EXPECT_EQ(kept, "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~");
  EXPECT_TRUE(kUnreservedAndSlash.contains('/'));
  EXPECT_FALSE(kUnreserved.contains('/'));
  EXPECT_FALSE(kUnreserved.without("~").contains('~'));
  EXPECT_TRUE(ByteSet::range(0x80, 0xFF).contains(0xFF));
  EXPECT_FALSE(ByteSet::range(0x80, 0xFF).contains(0x7F));
}

TEST(Percent, EncodesEveryByteOutsideTheSetInUpperCaseHex) {
  EXPECT_EQ(percent_encode("A-z_0.9~", kUnreserved), "A-z_0.9~");
  EXPECT_EQ(percent_encode("a/b c", kUnreservedAndSlash), "a/b%20c");
  EXPECT_EQ(percent_encode("a/b c", kUnreserved), "a%2Fb%20c");
  EXPECT_EQ(percent_encode("=&?#+*%", kUnreserved), "%3D%26%3F%23%2B%2A%25");
  EXPECT_EQ(percent_encode("ключ", kUnreserved), "%D0%BA%D0%BB%D1%8E%D1%87");
  EXPECT_EQ(percent_encode(std::string("\x00\xFF", 2), kUnreserved), "%00%FF");
  EXPECT_EQ(percent_encode("", kUnreserved), "");
  std::string out = "~";
  append_percent_escape(out, '~');
  EXPECT_EQ(out, "~%7E");
}

TEST(Percent, StrictDecodingFailsOnAnyMalformedEscape) {
  EXPECT_EQ(percent_decode("a%20b%2fc%2Fd"), "a b/c/d");
  EXPECT_EQ(percent_decode("a+b"), "a+b");  // '+' is a plus sign outside form encoding
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%25%32%30"), "%20");  // decoded once, never twice
  for (const char* bad : {"%", "100%", "%4", "a%4", "%zz", "%4g", "%g4", "% 20", "%%41"}) {
    EXPECT_FALSE(percent_decode(bad).has_value()) << bad;
  }
}

TEST(Percent, LenientDecodingKeepsMalformedEscapes) {
  EXPECT_EQ(percent_decode_lenient("a%20b%2Bc+d", /*plus_is_space=*/true), "a b+c d");
  EXPECT_EQ(percent_decode_lenient("a%20b%2Bc+d"), "a b+c+d");
  EXPECT_EQ(percent_decode_lenient("100%"), "100%");
  EXPECT_EQ(percent_decode_lenient("%4"), "%4");
  EXPECT_EQ(percent_decode_lenient("%zz"), "%zz");
  EXPECT_EQ(percent_decode_lenient("%%41"), "%A");
  EXPECT_EQ(percent_decode_lenient("+%+", true), " % ");
}

TEST(Properties, RoundTrips) {
  const bool ok = rc::check("hex and percent-encoding round-trip any bytes", [](const std::string& bytes) {
    RC_ASSERT(from_hex(to_hex(bytes)) == bytes);
    RC_ASSERT(to_hex(bytes).size() == 2 * bytes.size());
    for (const ByteSet* keep : {&kUnreserved, &kUnreservedAndSlash}) {
      const std::string encoded = percent_encode(bytes, *keep);
      RC_ASSERT(percent_decode(encoded) == bytes);
      RC_ASSERT(percent_decode_lenient(encoded) == bytes);
      // What the set keeps, and nothing else, stays literal: the encoding is canonical.
      for (char c : encoded) RC_ASSERT(c == '%' || keep->contains(static_cast<unsigned char>(c)));
    }
  });
  EXPECT_TRUE(ok);
}

TEST(Properties, StrictAndLenientDecodingAgreeOnWellFormedText) {
  const bool ok = rc::check("strict = lenient wherever strict succeeds", [](const std::string& text) {
    if (auto strict = percent_decode(text)) RC_ASSERT(*strict == percent_decode_lenient(text));
    else RC_ASSERT(text.find('%') != std::string::npos);
  });
  EXPECT_TRUE(ok);
}

TEST(Properties, ValidUtf8IsWhatCodePointsEncodeTo) {
  const bool ok = rc::check("strings of scalar values are valid, and their length is their count", [] {
    const auto cps = *rc::gen::container<std::vector<std::uint32_t>>(rc::gen::oneOf(
        rc::gen::inRange<std::uint32_t>(0, 0x80), rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
        rc::gen::inRange<std::uint32_t>(0xE000, 0x110000)));
    std::string s;
    for (std::uint32_t cp : cps) s += utf8(cp);
    RC_ASSERT(valid_utf8(s));
    RC_ASSERT(utf8_length(s) == cps.size());
    // Cutting inside the last code point leaves a truncated sequence.
    if (!s.empty() && cps.back() >= 0x80) RC_ASSERT(!valid_utf8(s.substr(0, s.size() - 1)));
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace s3db::encoding
