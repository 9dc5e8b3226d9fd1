// Nagios/Icinga plugin logic for `spamwarden queue check`: one status line with perfdata and
// the usual exit codes. Pure: it judges a QueueReport the caller already built.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "queue/summary.h"

namespace sw::queue {

enum NagiosStatus : int { kNagiosOk = 0, kNagiosWarning = 1, kNagiosCritical = 2, kNagiosUnknown = 3 };

struct CheckThresholds {
  uint64_t warn_total = 100, crit_total = 500;
  std::optional<uint64_t> warn_frozen, crit_frozen;
  std::optional<int64_t> warn_age, crit_age;     // seconds, oldest message
  std::optional<double> warn_share, crit_share;  // percent held by the top blamed actor
  uint64_t share_min_messages = 20;              // below this a "share" means nothing (1 message = 100%)
};

struct CheckResult {
  NagiosStatus status = kNagiosOk;
  std::string line;  // "QUEUE OK - ... | perfdata"
};

CheckResult evaluate_queue_check(const QueueReport& report, const CheckThresholds& thresholds);

}  // namespace sw::queue
