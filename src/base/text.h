// Small string helpers shared by every parser: no allocation unless the name says so.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sw {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) {
  return is_digit(c) || unsigned((c | 0x20) - 'a') < 26u;  // | 0x20 folds A-Z onto a-z
}
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// s.find(c, from) for the short distances of a parser's tokens, inline: a memchr call costs
// more than it saves on the 5-30 bytes between spaces. 16 bytes per step with SSE2.
inline size_t find_char(std::string_view s, char c, size_t from = 0) {
  size_t i = from;
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(c);
  for (; i + 16 <= s.size(); i += 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    if (int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle))) return i + size_t(__builtin_ctz(unsigned(mask)));
  }
#endif
  for (; i < s.size(); ++i)
    if (s[i] == c) return i;
  return std::string_view::npos;
}

std::string to_lower(std::string_view s);
// to_lower into an existing string, which keeps its buffer (no allocation once it is big enough).
void assign_lower(std::string& out, std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// Whether `needle` (lowercase) occurs in `haystack` ignoring ASCII case; no allocation.
bool icontains(std::string_view haystack, std::string_view needle);
// Without leading and trailing ASCII white space (what isspace() is in the C locale).
std::string_view trim(std::string_view s);
// The value of a hexadecimal digit, -1 for any other character.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses a non-negative decimal integer that fills the whole view; nullopt otherwise.
std::optional<uint64_t> parse_uint(std::string_view s);

// "user@example.com" -> "example.com" ("" without '@'), and -> "user" (the whole string
// without '@'). The last '@' counts: quoted local parts may contain one.
inline std::string_view domain_of(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}
inline std::string_view local_part_of(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? address : address.substr(0, at);
}

// Undoes Exim's printable-escaping (\" \\ \n \t \ooo ...), as used in T="..." subjects.
std::string unescape_exim(std::string_view s);

// Replaces what would garble a terminal or a report with '?': controls (C0, DEL, C1), bidi
// embeddings and isolates, line and paragraph separators, and bytes that are not UTF-8.
// Cuts at max_len bytes without splitting a character, adding "...".
std::string printable(std::string_view s, size_t max_len = SIZE_MAX);

// printable(s) cut to at most `columns` terminal columns for a fixed-width report, ending in
// "..." when cut. Wide characters (CJK, emoji) take two columns (see display_width.h).
std::string fit_columns(std::string_view s, size_t columns);
// `text` (made printable) word-wrapped to `width` columns after a first-line prefix, each line
// ending in "\n"; continuation lines get `indent` spaces. Room is counted in terminal columns,
// so a line of wide characters wraps as early as it must; a word wider than a line is cut
// between characters, never inside one.
std::string wrap_columns(std::string_view first_prefix, std::string_view text, size_t indent, size_t width);
// "a", "a and b", "a, b and c".
std::string join_with_and(const std::vector<std::string>& parts);
// fit_columns(s) padded with spaces to exactly `columns` columns: a left-aligned table cell.
// fmt's own padding counts columns by a different table.
std::string pad_columns(std::string_view s, size_t columns);

// Replaces every run of digits with one '#', so "Order #12345 shipped" and "Order #12346
// shipped" group together. Writes into buf only when s has digits; returns the result.
std::string_view fold_digits(std::string_view s, std::string& buf);

// A fast 64-bit hash of s, 8 bytes at a time; with `lower`, of its ASCII-lowercased bytes
// (the same result as hashing a lowered copy, without making one).
uint64_t hash_bytes(std::string_view s, bool lower = false);

// Shell-style glob with '*', '?' and '[...]', case-insensitive (addresses are).
bool glob_match(std::string_view pattern, std::string_view text);
// A glob that matches exactly s: its '*', '?' and '[' each put in a class of its own.
std::string glob_literal(std::string_view s);

// s as one word for a POSIX shell: as it is when it is plain, else in single quotes; with bytes
// printable() would not show (controls, not UTF-8), in bash's $'...' with those as \xHH.
std::string shell_quote(std::string_view s);

}  // namespace sw
