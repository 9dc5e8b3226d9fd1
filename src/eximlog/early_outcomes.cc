#include "eximlog/early_outcomes.h"

namespace sw::eximlog {

// From the oldest held, while they are out of time: lines come in log order, so this is a
// line or two per call, not the whole queue (a line out of order waits for the cap).
size_t EarlyOutcomes::expire(CivilSeconds now) {
  size_t dropped = 0;
  for (; !held_.empty() && (held_.front().time < now - kWait || held_.front().time > now + kWait); ++dropped)
    held_.pop_front();
  return dropped;
}

size_t EarlyOutcomes::hold(const MessageKey& id, CivilSeconds time, std::string_view raw) {
  size_t dropped = held_.empty() ? 0 : expire(time);
  for (; held_.size() >= kMax; ++dropped) held_.pop_front();
  held_.push_back({id, time, std::string(raw)});
  return dropped;
}

bool EarlyOutcomes::restore(Entry e) {
  if (held_.size() >= kMax) return false;
  held_.push_back(std::move(e));
  return true;
}

}  // namespace sw::eximlog
