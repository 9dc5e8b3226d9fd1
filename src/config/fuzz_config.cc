// libFuzzer: the config parser reads a file an admin writes by hand.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<sw::config::ConfigError> errors;
  sw::config::parse_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", &errors);
  return 0;
}
