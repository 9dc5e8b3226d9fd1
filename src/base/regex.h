// Regular expressions over outside text (mail headers from the spool): PCRE2, the dialect of
// Exim and exiqgrep, with limits on every search, so that a hostile header costs bounded time
// and memory. A search that hits a limit says so: it is neither a match nor a non-match.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sw {

struct RegexLimits {
  uint32_t match_limit = 1'000'000;     // backtracking steps per search (both matchers)
  uint32_t depth_limit = 100'000;       // nested backtracking points (interpreter)
  uint32_t heap_limit_kib = 64 * 1024;  // interpreter's backtracking frames
  size_t jit_stack_bytes = 1 << 20;     // compiled matcher's stack, per thread
};

struct RegexOptions {
  bool caseless = false;  // ASCII letters only: subjects are bytes, not UTF-8 (no UTF mode)
  bool jit = true;        // compile to machine code where the platform allows it
  RegexLimits limits;
};

enum class RegexOutcome { no_match, match, limit_hit };

class Regex {
 public:
  // nullopt with *error naming the pattern, the offset and what is wrong there.
  static std::optional<Regex> compile(std::string_view pattern, const RegexOptions& options, std::string* error);

  // Anywhere in `subject`. Safe to call from several threads at once.
  RegexOutcome search(std::string_view subject) const;

  const std::string& pattern() const;
  bool uses_jit() const;

 private:
  struct Compiled;
  explicit Regex(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}
  std::shared_ptr<const Compiled> compiled_;  // immutable once built: copies share it
};

}  // namespace sw
