// Renders a QueueReport: a human report that fits 100 columns, and the stable --json shape
// documented in docs/queue.md. Outside text (subjects, senders) is masked before printing.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "queue/summary.h"

namespace sw::queue {

nlohmann::json report_to_json(const QueueReport& report);
std::string report_to_text(const QueueReport& report, const std::string& spool_dir);

// Selection options that reproduce a finding's messages, e.g. {"--auth-id", "alice@x"}, the
// actor made exact (print them with queue_list_command).
std::vector<std::string> selection_hint(const Finding& finding);

}  // namespace sw::queue
