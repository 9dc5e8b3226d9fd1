#include "base/display_width.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "base/text.h"

namespace sw {
namespace {

const std::string kZhong = "\xe4\xb8\xad";     // 中, wide
const std::string kGrin = "\xf0\x9f\x98\x80";  // 😀, wide
const std::string kZhe = "\xd0\x96";           // Ж, narrow
const std::string kAcute = "\xcc\x81";         // combining acute accent, zero width

TEST(DisplayWidth, CountsColumnsAsATerminalShowsThem) {
  EXPECT_EQ(display_width("hello"), 5u);
  EXPECT_EQ(display_width(kZhong + kZhong), 4u);
  EXPECT_EQ(display_width(kGrin), 2u);
  EXPECT_EQ(display_width(kZhe + kZhe + kZhe), 3u);
  EXPECT_EQ(display_width("e" + kAcute), 1u);
  EXPECT_EQ(display_width("\xed\x95\x9c"), 2u) << "Hangul syllable";
  EXPECT_EQ(display_width("\xef\xbc\xa1"), 2u) << "fullwidth A";
  EXPECT_EQ(display_width("\xff\xfe"), 2u) << "bytes that are not UTF-8 count one each";
}

TEST(DisplayWidth, PrefixStopsBeforeTheCharacterThatWouldNotFit) {
  std::string three = kZhong + kZhong + kZhong;  // 6 columns
  EXPECT_EQ(columns_prefix(three, 5), 6u) << "two characters, four columns";
  EXPECT_EQ(columns_prefix(three, 6), 9u);
  EXPECT_EQ(columns_prefix("ab" + kZhong, 3), 2u);
  EXPECT_EQ(columns_prefix("e" + kAcute + "x", 1), 3u) << "the mark stays with its letter";
  EXPECT_EQ(columns_prefix("", 4), 0u);
}

// Where fmt pads by its own width table, ours must never be narrower, or a padded column
// would run into the next one.
TEST(DisplayWidth, NeverNarrowerThanFmtCountsWhenItPads) {
  for (const char* s : {"\xe1\x84\x80", "\xe2\xba\x80", "\xea\xb0\x80", "\xef\xbc\x81", "\xf0\x9f\x98\x80",
                        "\xf0\x9f\xa4\x94", "\xf0\xa0\x80\x80", "\xe3\x81\x82", "a", "\xd0\x96"}) {
    std::string padded = fmt::format("{:<4}", s);
    size_t fmt_width = 4 - (padded.size() - std::string_view(s).size());
    EXPECT_GE(display_width(s), fmt_width) << s;
  }
}

TEST(DisplayWidth, ReportCellsFitTheirColumnsInAnyScript) {
  std::string subject;
  for (int i = 0; i < 60; ++i) subject += kZhong;  // 120 columns
  std::string cut = fit_columns(subject, 40);
  EXPECT_LE(display_width(cut), 40u);
  EXPECT_GE(display_width(cut), 39u);
  EXPECT_TRUE(cut.ends_with("...")) << cut;
  std::string emoji;
  for (int i = 0; i < 30; ++i) emoji += kGrin;
  EXPECT_LE(display_width(fit_columns(emoji, 25)), 25u);
  EXPECT_EQ(fit_columns(kZhong + kZhong, 4), kZhong + kZhong) << "exactly the width: not cut";
  EXPECT_EQ(display_width(pad_columns(kZhong + "ab", 10)), 10u);
  EXPECT_EQ(pad_columns("ab", 4), "ab  ");
  EXPECT_EQ(display_width(pad_columns(subject, 32)), 32u)
      << "a wide character that would straddle the cut leaves a space";
}

TEST(DisplayWidth, PrintableDefusesControlsThatAreValidUtf8) {
  EXPECT_EQ(printable("a\xc2\x9b"
                      "2Jb"),
            "a?2Jb")
      << "U+009B, CSI as a C1 control";
  EXPECT_EQ(printable("pay\xe2\x80\xaegpj.exe"), "pay?gpj.exe") << "right-to-left override";
  EXPECT_EQ(printable("a\xe2\x81\xa6"
                      "b\xe2\x81\xa9"),
            "a?b?")
      << "bidi isolates";
  EXPECT_EQ(printable("one\xe2\x80\xa8two"), "one?two") << "line separator";
  EXPECT_EQ(printable("caf\xc3\xa9 " + kZhong), "caf\xc3\xa9 " + kZhong) << "letters stay";
}

}  // namespace
}  // namespace sw
