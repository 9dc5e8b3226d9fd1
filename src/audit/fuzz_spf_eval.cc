// Fuzzes SPF evaluation: the input is the domain's TXT record; every other lookup answers NXDOMAIN
// except the one record, so include/redirect loops and lookup limits are exercised.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/dns_spf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sw::audit;
  AnswerCache cache;
  dns::Answer txt;
  txt.outcome = dns::Outcome::answer;
  txt.records = {std::string(reinterpret_cast<const char*>(data), size)};
  cache[{"example.com", dns::RecordType::txt}] = txt;
  SpfQuery query{"example.com", "192.0.2.1", "postmaster@example.com", "helo.example"};
  for (int round = 0; round < 64; ++round) {
    SpfEvaluation ev = evaluate_spf(query, cache);
    if (!ev.needed) break;
    dns::Answer answer;
    answer.outcome = dns::Outcome::nxdomain;
    if (ev.needed->name == "example.com") answer = txt;  // a self-include
    cache[*ev.needed] = answer;
  }
  return 0;
}
