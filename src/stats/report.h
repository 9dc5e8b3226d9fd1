// The result of `spamwarden logs`: counts, ranked actors and findings, rendered as JSON or as
// a human report that fits 100 columns.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stats/findings.h"
#include "stats/forensics.h"

namespace sw::stats {

struct ReportOptions {
  size_t top = 10;  // rows per actor kind; 0 = all
  // Inputs that could not be read wholly: "no findings" then speaks only of what was read.
  size_t incomplete_inputs = 0;
  // The log writes its times with a zone (log_timezone): every time shown, and --since and
  // --until, are then UTC, not the zone its lines show. The report says so.
  bool utc = false;
};

struct LogReport {
  std::vector<std::string> inputs;
  std::vector<std::string> warnings;  // inputs that could not be read completely
  const Forensics* forensics = nullptr;
  std::vector<Finding> findings;
  std::vector<ListMailing> lists_mailed_again;  // bursts that are no finding: said all the same
  double seconds = 0;                           // wall time of the run
};

nlohmann::json report_json(const LogReport& r, const ReportOptions& o);
std::string report_text(const LogReport& r, const ReportOptions& o);

// Actors of one kind ranked by messages, then recipients, then key (stable across runs).
std::vector<const ActorStats*> ranked(const ActorTable& t, size_t top);

}  // namespace sw::stats
