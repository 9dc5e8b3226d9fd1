// libFuzzer: the summary cache's reader takes files from disk that may be damaged in any way.
// The entry's framing (magic, version, key, checksum) is fuzzed as it comes, and the state
// inside is fuzzed past the checksum (wrapped in a valid entry), loaded into an engine that
// is then fed a resumed log's lines (every loaded table builds its index; a cutthrough line is
// held beside those loaded and claimed by its arrival), finished and
// reported on, as a run would.
#include <cstddef>
#include <cstdint>
#include <string>

#include "eximlog/line_parser.h"
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
  for (std::string_view line :
       {"2026-11-01 10:00:00 1abcde-000001-AB >> e@d.example R=dnslookup T=remote_smtp",  // held, claimed next
        "2026-11-01 10:00:00 1abcde-000001-AB <= a@b.example H=(x) [192.0.2.1] P=esmtpa A=login:a@b.example "
        "S=10 T=\"x\" for c@d.example",
        "2026-11-01 10:00:00 cwd=/home/u/public_html 3 args: /usr/sbin/sendmail -t -i",
        "2026-11-01 10:00:01 1abcde-000001-AB => c@d.example R=dnslookup T=remote_smtp",
        "2026-11-01 10:00:01 1abcde-000001-AB Completed"}) {
    sw::eximlog::LogLine parsed;
    if (sw::eximlog::parse_line(line, parsed) != sw::eximlog::LineKind::Unparsed) engine.add(parsed, line);
  }
  engine.finish();
  LogReport report;
  report.forensics = &engine;
  report.findings = find_abuse(engine);
  report.lists_mailed_again = lists_mailed_again(engine, report.findings);
  (void)report_json(report, ReportOptions{.top = 0});
  return 0;
}
