// Outcome lines Exim writes before their message's arrival line: a cutthrough delivery's ">>"
// is logged when the next hop has accepted the data, just before "<=" (exim-formats 1.4).
// Kept a short while, as copies, for the arrival to claim; shared by the forensics engine,
// the actor story and the live detector, so each counts those deliveries as its message's.
// Pure, no I/O.
#pragma once
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "base/civil_time.h"
#include "eximlog/log_line.h"
#include "eximlog/message_id.h"

namespace sw::eximlog {

// Whether a line with no arrival seen yet is one Exim writes before the arrival.
inline bool is_early_outcome(const LogLine& l) {
  return l.kind == LineKind::Delivery && l.delivery == DeliveryFlag::Cutthrough && !l.message_id.empty();
}

class EarlyOutcomes {
 public:
  struct Entry {
    MessageKey id;
    CivilSeconds time = 0;
    std::string raw;
  };
  // The arrival follows in the same second (the same process writes both); a minute leaves
  // room for a busy log's interleaving. Past it, or past kMax held, a line is an orphan.
  static constexpr CivilSeconds kWait = 60;
  static constexpr size_t kMax = 512;  // a busy relay's sessions finishing DATA at once

  // Keeps a copy of the line (or none: a reader that needs only its time); returns how many held lines it dropped
  // (expired, or the oldest past kMax).
  size_t hold(const MessageKey& id, CivilSeconds time, std::string_view raw);
  // Drops the oldest lines while they were held longer than kWait before `now` (or are as long
  // after it: a clock that went back); returns how many.
  size_t expire(CivilSeconds now);
  // Calls f(entry) on each line held for `id`, oldest first, and forgets them.
  template <class F>
  void take(const MessageKey& id, F&& f) {
    for (auto it = held_.begin(); it != held_.end();) {
      if (!(it->id == id)) {
        ++it;
        continue;
      }
      Entry e = std::move(*it);
      it = held_.erase(it);
      f(static_cast<const Entry&>(e));
    }
  }

  bool empty() const { return held_.empty(); }
  size_t size() const { return held_.size(); }
  const std::deque<Entry>& entries() const { return held_; }
  // Restores a saved entry (oldest first); false past kMax.
  bool restore(Entry e);

 private:
  std::deque<Entry> held_;  // oldest first
};

}  // namespace sw::eximlog
