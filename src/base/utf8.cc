#include "base/utf8.h"

namespace sw {

size_t utf8_sequence_length(std::string_view s) {
  if (s.empty()) return 0;
  auto at = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = at(0);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;       // overlong
    else if (c == 0xed) hi = 0x9f;  // UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;       // overlong
    else if (c == 0xf4) hi = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || at(1) < lo || at(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if ((at(i) & 0xc0) != 0x80) return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // the common case, a byte at a time
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

char32_t decode_utf8(std::string_view s, size_t& length) {
  length = s.empty() ? 0 : utf8_sequence_length(s);
  if (length <= 1) {  // ASCII, or not UTF-8: the byte itself
    length = s.empty() ? 0 : 1;
    return s.empty() ? 0 : char32_t(static_cast<unsigned char>(s[0]));
  }
  static constexpr unsigned char kLeadBits[] = {0, 0, 0x1f, 0x0f, 0x07};
  char32_t cp = static_cast<unsigned char>(s[0]) & kLeadBits[length];
  for (size_t i = 1; i < length; ++i) cp = cp << 6 | (static_cast<unsigned char>(s[i]) & 0x3f);
  return cp;
}

size_t utf8_prefix(std::string_view s, size_t max_bytes) {
  if (max_bytes >= s.size()) return s.size();
  size_t end = max_bytes;
  // Back up over continuation bytes to the start of the sequence that crosses the cut.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80 && max_bytes - end < 3) --end;
  return end;
}

}  // namespace sw
