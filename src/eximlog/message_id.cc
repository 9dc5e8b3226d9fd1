#include "eximlog/message_id.h"

#include <cstring>

#include "base/text.h"

namespace sw::eximlog {

int base62_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

static bool alnum_run(std::string_view s, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (!is_alnum(s[i])) return false;
  return true;
}

bool is_message_id(std::string_view s) {
  if (s.size() == kOldIdLength)
    return s[6] == '-' && s[13] == '-' && alnum_run(s, 0, 6) && alnum_run(s, 7, 13) &&
           alnum_run(s, 14, 16);
  if (s.size() == kNewIdLength)
    return s[6] == '-' && s[18] == '-' && alnum_run(s, 0, 6) && alnum_run(s, 7, 18) &&
           alnum_run(s, 19, 23);
  return false;
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
