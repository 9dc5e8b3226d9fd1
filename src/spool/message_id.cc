#include "spool/message_id.h"

namespace sw::spool {

int base62_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

static bool all_base62(std::string_view s) {
  for (char c : s)
    if (base62_value(c) < 0) return false;
  return true;
}

bool valid_message_id(std::string_view id) {
  if (id.size() == kOldIdLength)
    return id[6] == '-' && id[13] == '-' && all_base62(id.substr(0, 6)) &&
           all_base62(id.substr(7, 6)) && all_base62(id.substr(14, 2));
  if (id.size() == kNewIdLength)
    return id[6] == '-' && id[18] == '-' && all_base62(id.substr(0, 6)) &&
           all_base62(id.substr(7, 11)) && all_base62(id.substr(19, 4));
  return false;
}

std::optional<int64_t> message_id_time(std::string_view id) {
  if (!valid_message_id(id)) return std::nullopt;
  int64_t t = 0;
  for (char c : id.substr(0, 6)) t = t * 62 + base62_value(c);
  return t;
}

}  // namespace sw::spool
