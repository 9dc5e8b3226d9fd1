// libFuzzer: parse_originating_script never crashes, and what it accepts is a plain file name
// (no '/', not hidden, no control characters) with a uid that round-trips.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "contain/script_disable.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ref = sw::contain::parse_originating_script(text);
  if (!ref) return 0;
  const std::string& n = ref->name;
  if (n.empty() || n.size() > 255 || n.front() == '.' || n.find('/') != std::string::npos) std::abort();
  for (unsigned char c : n)
    if (c < 0x20 || c == 0x7f) std::abort();
  if (ref->uid < 0 || text.find(std::to_string(ref->uid) + ":") == std::string_view::npos) std::abort();
  return 0;
}
