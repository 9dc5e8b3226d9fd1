#include "base/text.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "base/fd_io.h"

namespace sw {

TEST(Text, UnescapeEximSubject) {
  EXPECT_EQ(unescape_exim(R"(a \"b\" c\\d)"), "a \"b\" c\\d");
  EXPECT_EQ(unescape_exim(R"(caf\303\251)"), "caf\xc3\xa9");
  EXPECT_EQ(unescape_exim(R"(tab\there)"), "tab\there");
  EXPECT_EQ(unescape_exim("trailing\\"), "trailing\\");
  EXPECT_EQ(unescape_exim(R"(\9x)"), "9x");
}

TEST(Text, ParseUint) {
  EXPECT_EQ(parse_uint("12345"), 12345u);
  EXPECT_FALSE(parse_uint(""));
  EXPECT_FALSE(parse_uint("12a"));
  EXPECT_FALSE(parse_uint("-1"));
  EXPECT_FALSE(parse_uint("99999999999999999999"));
}

TEST(Text, GlobMatchesLikeAShell) {
  EXPECT_TRUE(glob_match("*@acme-shop.example", "Sales@ACME-shop.example"));
  EXPECT_TRUE(glob_match("user?@x", "user1@x"));
  EXPECT_FALSE(glob_match("user?@x", "user12@x"));
  EXPECT_TRUE(glob_match("[a-c]*", "bob"));
  EXPECT_FALSE(glob_match("[!a-c]*", "bob"));
  for (const char* s : {"/home/u/public_html/[old]/x*", "what?@x", "plain@x.example", "*"}) {
    EXPECT_TRUE(glob_match(glob_literal(s), s)) << s;
    EXPECT_FALSE(glob_match(glob_literal(s), std::string(s) + "x")) << s;
  }
  EXPECT_FALSE(glob_match(glob_literal("a*c"), "abc")) << "the star is a star, not a wildcard";
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("a*b", "acd"));
}

namespace {

// What /bin/sh -c COMMAND prints.
std::string output_of(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return "(popen failed)";
  std::string got;
  char buf[256];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) got.append(buf, n);
  ::pclose(p);
  return got;
}

}  // namespace

// Bytes a terminal would not show as they are (ESC, a tab, a byte that is not UTF-8, a C1
// control) go in bash's $'...' as \xHH: what is printed is printable, and pasted into bash it
// is the same bytes.
TEST(Text, ShellQuoteWritesUnprintableBytesAsEscapes) {
  EXPECT_EQ(shell_quote("/home/t2/public_html/esc\x1b[31mred"), "$'/home/t2/public_html/esc\\x1b[31mred'");
  for (std::string s : {std::string("a\tb"), std::string("it's\x1b\\n"), std::string("caf\xc3\xa9 \xff"),
                        std::string("c1\xc2\x9b"), std::string("nl\n")}) {
    std::string quoted = shell_quote(s);
    EXPECT_EQ(printable(quoted), quoted) << "printed as it is";
    EXPECT_EQ(output_of("bash -c " + shell_quote("printf %s " + quoted)), s) << quoted;
  }
}

// What the report prints as a command must reach the command as the same bytes.
TEST(Text, ShellQuoteSurvivesTheShell) {
  EXPECT_EQ(shell_quote("sales@acme-shop.example"), "sales@acme-shop.example");
  for (std::string s : {"/home/u/public_html/my site", "it's", "a'b'c", "$(reboot)", "`x`", "*", "", "a\\b"}) {
    std::string command = "printf %s " + shell_quote(s);
    EXPECT_EQ(output_of(command), s) << command;
  }
}

TEST(Text, PrintableMasksControls) {
  EXPECT_EQ(printable("a\x01"
                      "b\x7f"),
            "a?b?");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
}

TEST(Text, FoldDigits) {
  std::string buf;
  EXPECT_EQ(fold_digits("Order #12345 shipped on 2026-11-01", buf), "Order ## shipped on #-#-#");
  EXPECT_EQ(fold_digits("no digits", buf), "no digits");
  EXPECT_EQ(fold_digits("7", buf), "#");
}

TEST(Text, HashOfLoweredBytesEqualsHashOfLoweredCopy) {
  for (std::string s : {"", "A", "Sales@ACME-Shop.Example", "0123456789@[]^_`{|}~AZaz",
                        "\xc3\x89T\xc3\xa9 Long Key Spanning Several Words"}) {
    EXPECT_EQ(hash_bytes(s, true), hash_bytes(to_lower(s))) << s;
  }
  EXPECT_NE(hash_bytes("abc"), hash_bytes("abd"));
  EXPECT_NE(hash_bytes("abcdefgh"), hash_bytes(std::string_view("abcdefgh\0", 9)));
  EXPECT_NE(hash_bytes("@"), hash_bytes("`"));  // 0x40 and 0x60 are not case pairs
}

TEST(Text, TrimAndCase) {
  EXPECT_EQ(trim("  x y \r\n"), "x y");
  EXPECT_TRUE(iequals("HeLLo", "hello"));
  EXPECT_TRUE(icontains("550 Relay not permitted", "relay"));
  EXPECT_TRUE(icontains("RELAY", "relay"));
  EXPECT_FALSE(icontains("550 Unrouteable address", "relay"));
  EXPECT_FALSE(icontains("rela", "relay"));
  EXPECT_TRUE(icontains("...relay", "RELAY")) << "at the very end";
  EXPECT_TRUE(icontains("rrelay", "relay")) << "after a false start";
  EXPECT_FALSE(icontains("relax relaY-", "relays"));
  EXPECT_TRUE(icontains("", ""));
  EXPECT_FALSE(icontains("", "r"));
  EXPECT_TRUE(icontains("user@EXAMPLE.org", "@example")) << "a first byte that is no letter";
  EXPECT_FALSE(icontains("user`example", "@example")) << "@ and ` differ only in the case bit";
  EXPECT_EQ(to_lower("ABC@Def"), "abc@def");
}

TEST(Text, JoinWithAnd) {
  EXPECT_EQ(join_with_and({}), "");
  EXPECT_EQ(join_with_and({"a"}), "a");
  EXPECT_EQ(join_with_and({"a", "b"}), "a and b");
  EXPECT_EQ(join_with_and({"a", "b", "c"}), "a, b and c");
}

// A prefix of a file, never through a link; with regular_only, nothing but a file.
TEST(FdIo, ReadFilePrefix) {
  char dir[] = "/tmp/sw-prefix-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string base = dir, out, error;
  std::FILE* f = std::fopen((base + "/f").c_str(), "w");
  std::fputs("0123456789", f);
  std::fclose(f);
  ASSERT_TRUE(read_file_prefix(base + "/f", 4, &out, &error, true));
  EXPECT_EQ(out, "0123");
  ASSERT_EQ(::symlink((base + "/f").c_str(), (base + "/link").c_str()), 0);
  EXPECT_FALSE(read_file_prefix(base + "/link", 4, &out, &error));
  EXPECT_NE(error.find("cannot open " + base + "/link"), std::string::npos) << error;
  ASSERT_EQ(::mkfifo((base + "/fifo").c_str(), 0600), 0);
  EXPECT_TRUE(read_file_prefix(base + "/fifo", 4, &out, &error)) << "opened without waiting on a writer";
  EXPECT_EQ(out, "");
  EXPECT_FALSE(read_file_prefix(base + "/fifo", 4, &out, &error, true));
  EXPECT_EQ(error, base + "/fifo is not a file");
  for (const char* name : {"/f", "/link", "/fifo"}) ::unlink((base + name).c_str());
  ::rmdir(dir);
}

}  // namespace sw
