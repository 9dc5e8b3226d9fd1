// libFuzzer: the readsocket request line comes from Exim, built from what SMTP clients sent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/exim_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  sw::proto::Request r;
  std::string error;
  if (sw::proto::parse_exim_request(line, &r, &error)) {
    if (r.helo.size() > sw::proto::kMaxFieldBytes || r.sender.size() > sw::proto::kMaxFieldBytes) __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();  // every refusal says why
  }
  return 0;
}
