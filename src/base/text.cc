#include "base/text.h"

#include "base/display_width.h"
#include "base/utf8.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace sw {

void assign_lower(std::string& out, std::string_view s) {
  out.assign(s);
  for (char& c : out) c = ascii_lower(c);
}

std::string to_lower(std::string_view s) {
  std::string out;
  assign_lower(out, s);
  return out;
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  // Only where the first letter matches is the rest compared. A letter matches in either
  // case when the byte with the case bit set is the lowercase letter: one OR, no branch.
  const char first = ascii_lower(needle[0]);
  const char case_bit = first >= 'a' && first <= 'z' ? 0x20 : 0;
  const char* h = haystack.data();
  for (size_t i = 0, last = haystack.size() - needle.size(); i <= last; ++i) {
    if (char(h[i] | case_bit) != first) continue;
    size_t j = 1;
    while (j < needle.size() && ascii_lower(h[i + j]) == ascii_lower(needle[j])) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };  // \t \n \v \f \r
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
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

namespace {

// Valid UTF-8 a terminal would still obey or reorder: C1 controls (U+009B is CSI, which some
// terminals act on), bidi embeddings and isolates (they reverse what follows on the line),
// and the line and paragraph separators.
bool terminal_would_obey(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0x2028 || cp == 0x2029;
}

}  // namespace

std::string printable(std::string_view s, size_t max_len) {
  std::string out;
  size_t n = utf8_prefix(s, max_len);
  out.reserve(n);
  for (size_t i = 0; i < n;) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += (c < 0x20 || c == 0x7f) ? '?' : char(c);
      ++i;
      continue;
    }
    // Bytes that are not UTF-8 decode as length 1: raw high bytes can be terminal controls
    // too (0x9b is an 8-bit CSI).
    size_t len = 0;
    char32_t cp = decode_utf8(s.substr(i, n - i), len);
    if (len == 1 || terminal_would_obey(cp)) out += '?';
    else out.append(s.substr(i, len));
    i += len;
  }
  if (n < s.size()) out += "...";
  return out;
}

std::string fit_columns(std::string_view s, size_t columns) {
  std::string p = printable(s);  // valid UTF-8 from here on
  size_t fits = columns_prefix(p, columns);
  if (fits == p.size() || columns < 3) return p.substr(0, fits);
  return p.substr(0, columns_prefix(p, columns - 3)) + "...";
}

std::string wrap_columns(std::string_view first_prefix, std::string_view text, size_t indent, size_t width) {
  std::string out(first_prefix);
  size_t room = width - std::min(width, display_width(first_prefix));
  std::string p = printable(text);
  std::string_view rest = p;
  while (!rest.empty()) {
    size_t take = columns_prefix(rest, room);
    if (take < rest.size()) {
      // Break at the last space that fits (or right after what fits); without one, between
      // characters, never inside one.
      size_t space = rest.substr(0, take + 1).rfind(' ');
      if (space != std::string_view::npos && space > 0) take = space;
      else if (take == 0) take = std::max<size_t>(1, utf8_sequence_length(rest));
    }
    out += std::string(rest.substr(0, take)) + "\n";
    rest.remove_prefix(take);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (!rest.empty()) out += std::string(indent, ' ');
    room = width - std::min(width, indent);
  }
  return out;
}

std::string join_with_and(const std::vector<std::string>& parts) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) text += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return text;
}

std::string pad_columns(std::string_view s, size_t columns) {
  std::string p = fit_columns(s, columns);
  size_t width = display_width(p);
  if (width < columns) p.append(columns - width, ' ');
  return p;
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

// 64x64 -> 128-bit multiply, folded: the mixing step of wyhash. Two words per multiply, and
// the tail is read with overlapping loads instead of a variable-length copy.
static uint64_t fold_mul(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return uint64_t(r) ^ uint64_t(r >> 64);
}

uint64_t hash_bytes(std::string_view s, bool lower) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull;
  const char* p = s.data();
  const size_t n = s.size();
  auto word = [&](const char* q) {
    uint64_t w;
    std::memcpy(&w, q, 8);
    return lower ? lower_word(w) : w;
  };
  auto half = [&](const char* q) {
    uint32_t w;
    std::memcpy(&w, q, 4);
    return lower ? lower_word(w) : uint64_t(w);
  };
  uint64_t h = k0 ^ (n * k2);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) h = fold_mul(word(p + i) ^ k1, word(p + i + 8) ^ h);
  size_t rest = n - i;
  uint64_t a = 0, b = 0;
  if (rest > 8) {
    a = word(p + i);
    b = word(p + n - 8);
  } else if (rest >= 4) {
    a = half(p + i);
    b = half(p + n - 4);
  } else if (rest > 0) {
    auto byte = [&](size_t at) { return uint64_t(uint8_t(lower ? ascii_lower(p[at]) : p[at])); };
    a = byte(i) << 16 | byte(i + rest / 2) << 8 | byte(n - 1);
  }
  return fold_mul(fold_mul(a ^ k1, b ^ h) ^ k0, n ^ k2);
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

std::string glob_literal(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[') out += '[', out += c, out += ']';
    else out += c;
  }
  return out;
}

namespace {

// The bytes of `s` that printable() would not show as they are (controls, bytes that are not
// UTF-8, code points a terminal obeys), as `s` is split into characters: their offsets.
std::vector<size_t> unprintable_bytes(std::string_view s) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    bool shown = c >= 0x20 && c != 0x7f;
    if (c >= 0x80) {
      char32_t cp = decode_utf8(s.substr(i), len);
      shown = len > 1 && !terminal_would_obey(cp);
    }
    if (!shown)
      for (size_t k = 0; k < len; ++k) at.push_back(i + k);
    i += len;
  }
  return at;
}

}  // namespace

std::string shell_quote(std::string_view s) {
  auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || (c != 0 && std::strchr("@%+=:,./_-", c));
  };
  if (!s.empty() && std::all_of(s.begin(), s.end(), plain)) return std::string(s);
  std::vector<size_t> hidden = unprintable_bytes(s);
  if (hidden.empty()) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
  // Bytes a terminal would not show as they are: bash's $'...' with each as \xHH, so the
  // command on the screen is the same bytes once pasted.
  std::string out = "$'";
  for (size_t i = 0, h = 0; i < s.size(); ++i) {
    if (h < hidden.size() && hidden[h] == i) {
      static constexpr char kHex[] = "0123456789abcdef";
      unsigned char c = static_cast<unsigned char>(s[i]);
      out += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      ++h;
    } else if (s[i] == '\'' || s[i] == '\\') {
      out += '\\';
      out += s[i];
    } else {
      out += s[i];
    }
  }
  return out + "'";
}

}  // namespace sw
