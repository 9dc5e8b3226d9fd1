// Reading the answer section of a DNS response (RFC 1035): the records of one type, as text.
// Pure: bytes in, records out; every length is checked against the message, so any input is safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sw::audit::dns {

enum class RecordType : uint16_t { a = 1, cname = 5, ptr = 12, mx = 15, txt = 16, aaaa = 28 };

std::string_view type_name(RecordType type);

struct ParsedAnswer {
  int rcode = 0;                     // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED
  std::vector<std::string> records;  // A/AAAA: address text; PTR/CNAME: name; MX: "PREF NAME"; TXT: strings joined
  bool capped = false;               // TXT text beyond max_text_bytes was dropped
};

// Parses `msg`; records of `type` in the answer section are returned (names without the final dot,
// TXT character-strings of one record concatenated as RFC 7208 3.3 says). TXT text is capped at
// max_text_bytes in total. Returns false when the message is malformed (then `out` is unspecified).
bool parse_answer(std::string_view msg, RecordType type, ParsedAnswer& out, size_t max_text_bytes = 64 * 1024);

}  // namespace sw::audit::dns
