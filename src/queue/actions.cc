#include "queue/actions.h"

#include <sstream>

namespace sw::queue {
namespace {

constexpr size_t kIdsPerCall = 200;  // keeps argv well under ARG_MAX

const char* flag_of(EximAction action) {
  switch (action) {
    case EximAction::freeze: return "-Mf";
    case EximAction::thaw: return "-Mt";
    case EximAction::remove: return "-Mrm";
  }
  return "";
}

bool reports_success(EximAction action, const std::string& line) {
  switch (action) {
    case EximAction::freeze: return line.find(" is now frozen") != std::string::npos;
    case EximAction::thaw: return line.find(" is no longer frozen") != std::string::npos;
    case EximAction::remove:
      return line.find(" has been removed") != std::string::npos && line.find("did not exist") == std::string::npos;
  }
  return false;
}

}  // namespace

std::vector<ActionOutcome> parse_action_output(EximAction action, const std::vector<std::string>& ids,
                                               const std::string& output) {
  std::vector<ActionOutcome> outcomes;
  std::vector<std::string> lines;
  std::istringstream stream(output);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  for (const std::string& id : ids) {
    ActionOutcome outcome{id, false, ""};
    for (const std::string& line : lines) {
      if (line.find(id) == std::string::npos) continue;
      if (reports_success(action, line)) outcome.ok = true;
      outcome.detail += (outcome.detail.empty() ? "" : "; ") + line;
    }
    if (outcome.detail.empty()) outcome.detail = "no reply from exim for this message";
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

std::vector<ActionOutcome> run_exim_action(EximRunner& exim, EximAction action, const std::vector<std::string>& ids) {
  std::vector<ActionOutcome> outcomes;
  for (size_t start = 0; start < ids.size(); start += kIdsPerCall) {
    std::vector<std::string> batch(ids.begin() + long(start),
                                   ids.begin() + long(std::min(ids.size(), start + kIdsPerCall)));
    std::vector<std::string> args = {flag_of(action)};
    args.insert(args.end(), batch.begin(), batch.end());
    EximCommandResult result = exim.run(args);
    if (result.exit_code < 0) {
      for (const std::string& id : batch) outcomes.push_back({id, false, result.output});
      continue;
    }
    for (ActionOutcome& outcome : parse_action_output(action, batch, result.output))
      outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

FreezeMatchingResult freeze_matching(const std::string& spool_dir, const Selection& selection, EximRunner& exim,
                                     int64_t now) {
  FreezeMatchingResult result;
  SelectionResult selected = select_messages(spool_dir, selection, now);
  result.not_checked = std::move(selected.not_checked);
  std::vector<std::string> ids;
  for (const SelectedMessage& m : selected.messages) {
    if (!m.readable && !selection.ids.count(m.location.id)) continue;
    ++result.matched;
    if (m.frozen) {
      ++result.already_frozen;
      continue;
    }
    ids.push_back(m.location.id);
  }
  result.outcomes = run_exim_action(exim, EximAction::freeze, ids);
  return result;
}

}  // namespace sw::queue
