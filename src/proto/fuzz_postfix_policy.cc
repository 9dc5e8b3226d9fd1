// libFuzzer: Postfix policy requests, fed in two pieces at a split the input chooses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/postfix_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t split = data[0] % size;
  std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view parts[2] = {all.substr(0, split), all.substr(std::min(split, all.size()))};
  sw::proto::PostfixRequestReader reader;
  sw::proto::Request r;
  std::string error;
  for (std::string_view part : parts) {
    while (!part.empty()) {
      auto st = reader.feed(&part, &r, &error);
      if (st == sw::proto::PostfixRequestReader::Status::Error) {
        if (error.empty()) __builtin_trap();
        return 0;
      }
      if (st == sw::proto::PostfixRequestReader::Status::NeedMore) break;
    }
  }
  return 0;
}
