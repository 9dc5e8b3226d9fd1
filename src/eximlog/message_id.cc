#include "eximlog/message_id.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/text.h"

namespace sw::eximlog {

int base62_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

#if defined(__SSE2__)
// Bit i set when p[i] is [0-9A-Za-z], for 16 bytes. Every line with an id asks this, so 16
// bytes are classed at once. Bytes >= 0x80 are negative here and fall outside both ranges.
static unsigned alnum_mask16(const char* p) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  auto in_range = [](__m128i x, char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(char(lo - 1))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(char(hi + 1))));
  };
  __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));  // A-Z onto a-z
  return unsigned(_mm_movemask_epi8(_mm_or_si128(in_range(v, '0', '9'), in_range(folded, 'a', 'z'))));
}
#else
static bool alnum_run(std::string_view s, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (!is_alnum(s[i])) return false;
  return true;
}
#endif

bool is_message_id(std::string_view s) {
#if defined(__SSE2__)
  // The dashes' bits are 0 in the masks: they are checked as bytes instead.
  if (s.size() == kOldIdLength)
    return s[6] == '-' && s[13] == '-' && (alnum_mask16(s.data()) | 1u << 6 | 1u << 13) == 0xffffu;
  if (s.size() == kNewIdLength)  // bytes 0-15, then 7-22 (bit 11 is byte 18)
    return s[6] == '-' && s[18] == '-' && (alnum_mask16(s.data()) | 1u << 6) == 0xffffu &&
           (alnum_mask16(s.data() + 7) | 1u << 11) == 0xffffu;
  return false;
#else
  if (s.size() == kOldIdLength)
    return s[6] == '-' && s[13] == '-' && alnum_run(s, 0, 6) && alnum_run(s, 7, 13) && alnum_run(s, 14, 16);
  if (s.size() == kNewIdLength)
    return s[6] == '-' && s[18] == '-' && alnum_run(s, 0, 6) && alnum_run(s, 7, 18) && alnum_run(s, 19, 23);
  return false;
#endif
}

size_t message_id_prefix(std::string_view s) {
  // The dashes tell the two forms apart before any character class is checked.
  if (s.size() < kOldIdLength || s[6] != '-') return 0;
  if (s[13] == '-') {
    bool ends = s.size() == kOldIdLength || s[kOldIdLength] == ' ';
    return ends && is_message_id(s.substr(0, kOldIdLength)) ? kOldIdLength : 0;
  }
  if (s.size() < kNewIdLength || s[18] != '-') return 0;
  bool ends = s.size() == kNewIdLength || s[kNewIdLength] == ' ';
  return ends && is_message_id(s.substr(0, kNewIdLength)) ? kNewIdLength : 0;
}

MessageKey message_key(std::string_view id) {
  MessageKey k;
  std::memcpy(k.w, id.data(), id.size() < sizeof k.w ? id.size() : sizeof k.w);
  return k;
}

std::optional<int64_t> message_id_time(std::string_view id) {
  if (!is_message_id(id)) return std::nullopt;
  int64_t t = 0;
  for (size_t i = 0; i < 6; ++i) t = t * 62 + base62_value(id[i]);
  return t;
}

}  // namespace sw::eximlog
