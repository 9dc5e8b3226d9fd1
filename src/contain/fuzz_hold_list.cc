// libFuzzer: the hold-list reader takes files an admin may have edited by hand.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "contain/hold_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  auto entries = sw::contain::parse_hold_list(text, &errors);
  // Round trip: what we render, we read back identically.
  std::string rendered = sw::contain::render_hold_list(sw::detect::ActorType::Sender, entries);
  auto again = sw::contain::parse_hold_list(rendered, nullptr);
  if (again.size() != entries.size()) __builtin_trap();
  return 0;
}
