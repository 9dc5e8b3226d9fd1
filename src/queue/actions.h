// Exim-safe actions on queued messages: everything goes through `exim -M...`, which takes the
// message lock, so we never race a delivery in progress. Also the library entry point the
// live-containment feature uses to freeze one actor's queued mail.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "queue/exim_runner.h"
#include "queue/selection.h"

namespace sw::queue {

enum class EximAction { freeze, thaw, remove };

struct ActionOutcome {
  std::string id;
  bool ok = false;
  std::string detail;  // exim's own words for this id
};

// Runs the action in batches of ids; one outcome per id, in input order.
std::vector<ActionOutcome> run_exim_action(EximRunner& exim, EximAction action, const std::vector<std::string>& ids);

// Reads exim's per-id replies ("Message X is now frozen", "... has been removed", ...). Pure.
std::vector<ActionOutcome> parse_action_output(EximAction action, const std::vector<std::string>& ids,
                                               const std::string& output);

struct FreezeMatchingResult {
  size_t matched = 0;
  size_t already_frozen = 0;
  std::vector<ActionOutcome> outcomes;   // only for messages that needed freezing
  std::vector<std::string> not_checked;  // a regex hit its match limit on these: left alone
};

// Freezes every readable queued message that matches `selection` and is not frozen yet.
FreezeMatchingResult freeze_matching(const std::string& spool_dir, const Selection& selection, EximRunner& exim,
                                     int64_t now);

}  // namespace sw::queue
