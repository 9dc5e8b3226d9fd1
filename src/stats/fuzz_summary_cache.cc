// libFuzzer: the summary cache's reader takes files from disk that may be damaged in any way.
// The entry's framing (magic, version, key, checksum) is fuzzed as it comes, and the state
// inside is fuzzed past the checksum (wrapped in a valid entry), loaded into an engine that
// is then finished and reported on, as a run would.
#include <cstddef>
#include <cstdint>
#include <string>

#include "stats/findings.h"
#include "stats/forensics.h"
#include "stats/report.h"
#include "stats/summary_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sw::stats;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string key = "v1 window=3600|1:2:3:4:0:0";
  (void)SummaryCache::decode(bytes, key);
  auto state = SummaryCache::decode(SummaryCache::encode(key, bytes), key);
  if (!state || *state != bytes) __builtin_trap();  // what is written is read back
  Forensics engine(Thresholds{});
  try {
    StateReader r(*state);
    engine.load_state(r);
  } catch (const StateError&) {
    return 0;
  }
  engine.finish();
  LogReport report;
  report.forensics = &engine;
  report.findings = find_abuse(engine);
  (void)report_json(report, ReportOptions{.top = 0});
  return 0;
}
