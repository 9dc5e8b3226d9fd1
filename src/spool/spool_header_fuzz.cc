// libFuzzer target for the -H parser. Oracle: any input yields ok or a clean error, never a crash,
// a sanitizer report, or an ok result that breaks the struct's own invariants.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spool/spool_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sw::spool::SpoolHeader header;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  sw::spool::HeaderParseStatus status = sw::spool::parse_spool_header(bytes, header);
  if (status.ok()) {
    if (header.recipients.size() > sw::spool::kMaxRecipients) std::abort();
    if (header.header_bytes > size) std::abort();
    for (const auto& h : header.headers) (void)h.value();
  } else if (status.offset > size) {
    std::abort();
  }
  return 0;
}
