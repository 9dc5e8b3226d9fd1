// Designated initializers name only the options a test cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "base/regex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sw {
namespace {

Regex compiled(std::string_view pattern, RegexOptions options = {}) {
  std::string error;
  auto re = Regex::compile(pattern, options, &error);
  EXPECT_TRUE(re) << error;
  return re ? *re : *Regex::compile("(*FAIL)", {}, &error);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(Regex, BadPatternIsNamedWithItsOffset) {
  std::string error;
  EXPECT_FALSE(Regex::compile("ab(unclosed", {}, &error));
  EXPECT_NE(error.find("'ab(unclosed'"), std::string::npos) << error;
  EXPECT_NE(error.find("offset 11"), std::string::npos) << error;
  EXPECT_NE(error.find("parenthesis"), std::string::npos) << error;
  EXPECT_FALSE(Regex::compile("x{2,1}", {}, &error));
  EXPECT_NE(error.find("offset"), std::string::npos) << error;
}

TEST(Regex, SearchesAnywhereCaselessOnRequest) {
  EXPECT_EQ(compiled("^inv").search("Invoice 42"), RegexOutcome::no_match);
  EXPECT_EQ(compiled("^inv", {.caseless = true}).search("Invoice 42"), RegexOutcome::match);
  EXPECT_EQ(compiled("\\d+$").search("Invoice 42"), RegexOutcome::match);
  EXPECT_EQ(compiled("(a)(b)(c)").search("xabcx"), RegexOutcome::match) << "more groups than the one ovector pair";
  EXPECT_EQ(compiled("").search(""), RegexOutcome::match);
  EXPECT_EQ(compiled("x").search(std::string_view()), RegexOutcome::no_match);
}

// Headers are bytes: invalid UTF-8 and NULs are searched like any byte, and (*UTF) is refused
// at compile time instead of failing on every non-UTF-8 subject.
TEST(Regex, SubjectsAreBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(compiled("caf\xc3").search("caf\xc3\x28 bad utf-8"), RegexOutcome::match);
  EXPECT_EQ(compiled("a.b").search("a\0b"s), RegexOutcome::match);
  EXPECT_EQ(compiled("\xe9t\xe9").search("\xe9t\xe9 latin-1"), RegexOutcome::match);
  std::string error;
  EXPECT_FALSE(Regex::compile("(*UTF)caf", {}, &error));
  EXPECT_NE(error.find("UTF"), std::string::npos) << error;
}

class RegexMatcher : public testing::TestWithParam<bool> {
 protected:
  RegexOptions options() const { return {.caseless = true, .jit = GetParam()}; }
};

// 'hello.*zzz' over a 50 KB and a 1 MB subject: std::regex recursed once per character there
// and overflowed the stack.
TEST_P(RegexMatcher, LongSubjectsAreSearchedWithoutRecursion) {
  Regex re = compiled("hello.*zzz", options());
  for (size_t size : {size_t(50'000), size_t(1'000'000)}) {
    std::string subject = "Hello " + std::string(size, 'x');
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(re.search(subject), RegexOutcome::no_match) << size;
    EXPECT_EQ(re.search(subject + " zzz"), RegexOutcome::match) << size;
    EXPECT_LT(seconds_since(start), 2.0) << size;
  }
}

// Catastrophic backtracking ends at the match limit, reported as such, in bounded time.
TEST_P(RegexMatcher, CatastrophicPatternsHitTheLimitQuickly) {
  std::string xs(100'000, 'x');
  struct Case {
    const char* pattern;
    std::string subject;
  };
  for (const Case& c : {Case{"(a+)+$", std::string(100'000, 'a') + "!"}, Case{"(x+x+)+y", xs + "!y"},
                        Case{"(x+x+)+y", std::string(40, 'x') + "!y"}, Case{"(\\w+\\s?)*$", xs + "!"}}) {
    Regex re = compiled(c.pattern, options());
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(re.search(c.subject), RegexOutcome::limit_hit) << c.pattern << " on " << c.subject.size() << " bytes";
    EXPECT_LT(seconds_since(start), 2.0) << c.pattern;
  }
  // Without the 'y' anywhere PCRE2 knows at once that (x+x+)+y cannot match.
  EXPECT_EQ(compiled("(x+x+)+y", options()).search(std::string(40, 'x')), RegexOutcome::no_match);
}

TEST_P(RegexMatcher, LimitsAreTheCallers) {
  std::string subject = std::string(40, 'a') + "!";
  EXPECT_EQ(compiled("(a|aa)+$", options()).search(subject), RegexOutcome::limit_hit) << "hard enough for 1M";
  RegexOptions low = options();
  low.limits.match_limit = 10;
  std::string short_subject = std::string(15, 'a') + "!";
  EXPECT_EQ(compiled("(a|aa)+$", low).search(short_subject), RegexOutcome::limit_hit);
  EXPECT_EQ(compiled("(a|aa)+$", options()).search(short_subject), RegexOutcome::no_match);
}

// Each thread has its own match data and JIT stack: searches and limit hits do not interfere.
TEST_P(RegexMatcher, OneRegexServesSeveralThreads) {
  Regex re = compiled("^(\\w+ ?)*zzz", options());
  const std::string hostile = std::string(5000, 'w') + "!zzz";
  std::vector<std::thread> threads;
  std::vector<int> matches(4), limit_hits(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        matches[t] += re.search("some words zzz") == RegexOutcome::match;
        if (i % 25 == 0) limit_hits[t] += re.search(hostile) == RegexOutcome::limit_hit;
      }
    });
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(matches[t], 100) << t;
  for (int t = 0; t < 4; ++t) EXPECT_EQ(limit_hits[t], 4) << t;
}

INSTANTIATE_TEST_SUITE_P(JitAndInterpreter, RegexMatcher, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) { return info.param ? "Jit" : "Interpreter"; });

TEST(Regex, JitIsUsedWhereAvailable) {
  EXPECT_TRUE(compiled("x+y").uses_jit()) << "Debian's libpcre2 on x86-64 and arm64 has JIT";
  EXPECT_FALSE(compiled("x+y", {.jit = false}).uses_jit());
}

}  // namespace
}  // namespace sw
