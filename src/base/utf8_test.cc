#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

#include "base/text.h"

namespace sw {
namespace {

TEST(Utf8, TellsWellFormedFromNot) {
  for (const char* ok : {"", "plain ascii", "Caf\xc3\xa9", "\xd0\x92\xd0\xb0\xd1\x88",  // é, Cyrillic
                         "\xe2\x80\x93", "\xf0\x9f\x93\xa7", "\xf4\x8f\xbf\xbf"})       // –, 📧, U+10FFFF
    EXPECT_TRUE(valid_utf8(ok)) << ok;
  for (const char* bad : {"caf\xe9", "\x80", "\xc3", "\xc0\xaf",                    // Latin-1, stray, cut, overlong '/'
                          "\xe0\x80\xaf", "\xed\xa0\x80",                           // overlong, surrogate
                          "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xe2\x80"})  // > U+10FFFF, 5 bytes, cut
    EXPECT_FALSE(valid_utf8(bad)) << bad;
}

TEST(Utf8, DecodesCodePointsAndStepsOverWhatIsNot) {
  size_t n = 0;
  EXPECT_EQ(decode_utf8("\xf0\x9f\x98\x80", n), char32_t(0x1f600));
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(decode_utf8("\xe4\xb8\xad", n), char32_t(0x4e2d));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(decode_utf8("\xe4\xb8", n), char32_t(0xe4)) << "cut short: one byte";
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(decode_utf8("", n), char32_t(0));
  EXPECT_EQ(n, 0u);
}

TEST(Utf8, PrefixNeverCutsACharacter) {
  std::string s =
      "ab\xe2\x80\x93"
      "cd";  // a, b, en dash (3 bytes), c, d
  EXPECT_EQ(utf8_prefix(s, 2), 2u);
  EXPECT_EQ(utf8_prefix(s, 3), 2u);
  EXPECT_EQ(utf8_prefix(s, 4), 2u);
  EXPECT_EQ(utf8_prefix(s, 5), 5u);
  EXPECT_EQ(utf8_prefix(s, 100), s.size());
}

TEST(Utf8, PrintableKeepsUtf8AndReplacesWhatATerminalWouldObey) {
  EXPECT_EQ(printable("Caf\xc3\xa9 \xe2\x80\x93 ok"), "Caf\xc3\xa9 \xe2\x80\x93 ok");
  EXPECT_EQ(printable("a\x1b[31mred\x07"), "a?[31mred?");
  EXPECT_EQ(printable("caf\xe9 \x9b"
                      "2J"),
            "caf? ?2J");  // Latin-1 byte; 0x9b is an 8-bit CSI
  EXPECT_EQ(printable("ab\xe2\x80\x93"
                      "cd",
                      4),
            "ab...");
}

TEST(Utf8, FitColumnsCountsCharactersNotBytes) {
  EXPECT_EQ(fit_columns("abcdef", 10), "abcdef");
  EXPECT_EQ(fit_columns("abcdefghij", 10), "abcdefghij") << "exactly the width: not cut";
  EXPECT_EQ(fit_columns("abcdefghijk", 8), "abcde...");
  std::string zh10, zh12;  // ten and twelve two-byte letters
  for (int i = 0; i < 10; ++i) zh10 += "\xd0\x96";
  zh12 = zh10 + "\xd0\x96\xd0\x96";
  EXPECT_EQ(fit_columns(zh10, 10), zh10) << "20 bytes, 10 columns";
  EXPECT_EQ(fit_columns(zh12, 10), zh10.substr(0, 14) + "...");
  EXPECT_EQ(fit_columns("a\x1b[2Jb", 10), "a?[2Jb");
}

}  // namespace
}  // namespace sw
