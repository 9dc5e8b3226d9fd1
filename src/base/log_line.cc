#include "base/log_line.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "base/text.h"

namespace sw {

void print_log_line(std::string_view who, std::string_view text) {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  fmt::print(stderr, "{}.{:03} {}: {}\n", stamp, int(ms), who, printable(text));
}

}  // namespace sw
