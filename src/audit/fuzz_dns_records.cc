// Fuzzes the TXT record parsers (SPF, DMARC, DKIM key) and SPF macro expansion.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/dns_inputs.h"
#include "audit/dns_records.h"
#include "audit/dns_spf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  sw::audit::parse_spf(text, &error);
  sw::audit::parse_dmarc(text, &error);
  sw::audit::parse_dkim_key(text, &error);
  sw::audit::base64_decode(text);
  sw::audit::parse_colon_map(text);  // /etc/mailips, /etc/mailhelo
  sw::audit::SpfQuery query{"example.com", "192.0.2.1", "a.b@example.com", "helo.example"};
  sw::audit::expand_spf_macros(text, query, "example.com");
  return 0;
}
