// Fuzzes the DNS response reader with every record type the checks ask for.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view msg(reinterpret_cast<const char*>(data), size);
  using sw::audit::dns::RecordType;
  sw::audit::dns::ParsedAnswer out;
  for (RecordType type : {RecordType::a, RecordType::aaaa, RecordType::txt, RecordType::mx, RecordType::ptr}) {
    sw::audit::dns::parse_answer(msg, type, out, 1024);
  }
  return 0;
}
