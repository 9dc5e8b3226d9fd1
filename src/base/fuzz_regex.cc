// libFuzzer target for base/regex over arbitrary header bytes: no crash, no hang past the
// limits, and the compiled matcher and the interpreter agree wherever neither hit a limit.
// A literal pattern must match exactly where the bytes contain it, ignoring ASCII case.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/regex.h"

namespace {

constexpr const char* kPatterns[] = {"hello.*zzz",
                                     "(a+)+$",
                                     "(x+x+)+y",
                                     "^(\\w+\\s?)*$",
                                     "[^\\x00-\\x7f]{3}",
                                     "(?i)viagra|c[i1]al[i1]s",
                                     "\\bfree\\b.*\\$\\d+",
                                     "^=\\?utf-8\\?[bq]\\?"};

sw::Regex compile(const char* pattern, bool jit) {
  std::string error;
  sw::RegexOptions options;
  options.caseless = true;
  options.jit = jit;
  options.limits.match_limit = 100'000;  // keeps each input fast; the limits themselves are under test
  auto re = sw::Regex::compile(pattern, options, &error);
  if (!re) std::abort();
  return *re;
}

bool contains_caseless(std::string_view text, std::string_view word) {
  auto lower_eq = [](char a, char b) { return std::tolower(uint8_t(a)) == std::tolower(uint8_t(b)); };
  return std::search(text.begin(), text.end(), word.begin(), word.end(), lower_eq) != text.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* compiled = [] {
    auto* all = new std::vector<std::pair<sw::Regex, sw::Regex>>;
    for (const char* p : kPatterns) all->emplace_back(compile(p, true), compile(p, false));
    all->emplace_back(compile("spam", true), compile("spam", false));
    return all;
  }();
  std::string_view subject(reinterpret_cast<const char*>(data), size);
  for (const auto& [jit, interpreter] : *compiled) {
    sw::RegexOutcome a = jit.search(subject), b = interpreter.search(subject);
    if (a != b && a != sw::RegexOutcome::limit_hit && b != sw::RegexOutcome::limit_hit) std::abort();
  }
  bool literal = compiled->back().first.search(subject) == sw::RegexOutcome::match;
  if (literal != contains_caseless(subject, "spam")) std::abort();
  return 0;
}
