#include "base/text.h"

#include <cstring>

namespace sw {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

static bool is_octal(char c) { return c >= '0' && c <= '7'; }

std::string unescape_exim(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 == s.size()) {
      out += c;
      continue;
    }
    char n = s[++i];
    switch (n) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'b': out += '\b'; break;
      case 'v': out += '\v'; break;
      case 'f': out += '\f'; break;
      default:
        if (is_octal(n) && i + 2 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2])) {
          out += char(((n - '0') << 6) | ((s[i + 1] - '0') << 3) | (s[i + 2] - '0'));
          i += 2;
        } else {
          out += n;  // \" and \\ and anything unknown: keep the character itself
        }
    }
  }
  return out;
}

std::string printable(std::string_view s, size_t max_len) {
  std::string out;
  size_t n = s.size() < max_len ? s.size() : max_len;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : char(c);
  }
  if (n < s.size()) out += "...";
  return out;
}

std::string_view fold_digits(std::string_view s, std::string& buf) {
  size_t first = 0;
  while (first < s.size() && !is_digit(s[first])) ++first;
  if (first == s.size()) return s;
  buf.assign(s.substr(0, first));
  for (size_t i = first; i < s.size(); ++i) {
    if (!is_digit(s[i])) buf += s[i];
    else if (i == 0 || !is_digit(s[i - 1])) buf += '#';
  }
  return buf;
}

static uint64_t lower_word(uint64_t x) {
  // SWAR: set bit 5 in every byte that is 'A'..'Z'; bytes >= 0x80 are left alone.
  constexpr uint64_t k7f = 0x7f7f7f7f7f7f7f7full, k80 = 0x8080808080808080ull;
  uint64_t seven = x & k7f;
  uint64_t ge_a = seven + 0x3f3f3f3f3f3f3f3full;  // high bit set when byte >= 'A'
  uint64_t gt_z = seven + 0x2525252525252525ull;  // high bit set when byte > 'Z'
  uint64_t upper = ge_a & ~gt_z & ~x & k80;
  return x | (upper >> 2);
}

static uint64_t fmix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

uint64_t hash_bytes(std::string_view s, bool lower) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xC2B2AE3D27D4EB4Full);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (lower) w = lower_word(w);
    h = (h ^ fmix64(w)) * 0x9E3779B97F4A7C15ull;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    if (lower) w = lower_word(w);
    h = (h ^ fmix64(w)) * 0x9E3779B97F4A7C15ull;
  }
  return fmix64(h);
}

static bool class_match(std::string_view pat, size_t& pi, char c) {
  // pat[pi] == '['; on return pi points past ']'.
  size_t i = pi + 1;
  bool negate = i < pat.size() && (pat[i] == '!' || pat[i] == '^');
  if (negate) ++i;
  bool matched = false;
  bool first = true;
  for (; i < pat.size() && (first || pat[i] != ']'); ++i, first = false) {
    char lo = ascii_lower(pat[i]);
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      char hi = ascii_lower(pat[i + 2]);
      if (ascii_lower(c) >= lo && ascii_lower(c) <= hi) matched = true;
      i += 2;
    } else if (ascii_lower(c) == lo) {
      matched = true;
    }
  }
  pi = i < pat.size() ? i + 1 : i;
  return matched != negate;
}

bool glob_match(std::string_view pat, std::string_view text) {
  size_t p = 0, t = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pat.size()) {
      size_t next = p;
      bool ok;
      if (pat[p] == '[') {
        ok = class_match(pat, next, text[t]);
      } else {
        ok = pat[p] == '?' || ascii_lower(pat[p]) == ascii_lower(text[t]);
        next = p + 1;
      }
      if (ok) {
        p = next;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace sw
