// libFuzzer target for the -H parser. Oracle: any input yields ok or a clean error, never a crash,
// a sanitizer report, or an ok result that breaks the struct's own invariants. Scanners reuse one
// SpoolHeader for every file, so each input is also parsed into an object that already holds
// the previous input's result, and both parses must agree.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spool/spool_header.h"

namespace {

bool same(const sw::spool::SpoolHeader& a, const sw::spool::SpoolHeader& b) {
  if (a.headers.size() != b.headers.size() || a.recipients.size() != b.recipients.size()) return false;
  for (size_t i = 0; i < a.headers.size(); ++i)
    if (a.headers[i].flag != b.headers[i].flag || a.headers[i].text != b.headers[i].text) return false;
  for (size_t i = 0; i < a.recipients.size(); ++i) {
    const auto &x = a.recipients[i], &y = b.recipients[i];
    if (x.address != y.address || x.errors_to != y.errors_to || x.orcpt != y.orcpt || x.dsn_flags != y.dsn_flags ||
        x.parent != y.parent)
      return false;
  }
  return a.id == b.id && a.sender == b.sender && a.header_bytes == b.header_bytes &&
         a.non_recipients == b.non_recipients && a.auth_id == b.auth_id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sw::spool::SpoolHeader reused;  // holds whatever the previous input left
  sw::spool::SpoolHeader header;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  sw::spool::HeaderParseStatus status = sw::spool::parse_spool_header(bytes, header);
  sw::spool::HeaderParseStatus again = sw::spool::parse_spool_header(bytes, reused);
  if (status.ok() != again.ok() || status.error != again.error || status.line != again.line) std::abort();
  if (status.ok()) {
    if (header.recipients.size() > sw::spool::kMaxRecipients) std::abort();
    if (header.header_bytes > size) std::abort();
    for (const auto& h : header.headers) (void)h.value();
    if (!same(header, reused)) std::abort();
  } else if (status.offset > size) {
    std::abort();
  }
  return 0;
}
