// Densest window of a fixed length over a time-ordered stream of (time, recipients) events:
// how many messages and recipients an actor sent in its busiest `span` seconds, and when.
// Memory is the events inside one window, so it follows the sending rate, not the log size.
#pragma once
#include <cstdint>
#include <vector>

#include "base/civil_time.h"

namespace sw::stats {

class PeakWindow {
 public:
  explicit PeakWindow(int64_t span) : span_(span) {}

  // Returns true when this event set a new peak (by recipients, then messages).
  bool add(CivilSeconds t, uint32_t recipients) {
    // Lines from rotated files can step back a little; keep the window monotonic.
    if (!events_.empty() && t < events_.back().time) t = events_.back().time;
    events_.push_back({t, recipients});
    cur_messages_ += 1;
    cur_recipients_ += recipients;
    while (events_[head_].time <= t - span_) {
      cur_messages_ -= 1;
      cur_recipients_ -= events_[head_].recipients;
      ++head_;
    }
    if (head_ > 64 && head_ * 2 > events_.size()) {
      events_.erase(events_.begin(), events_.begin() + long(head_));
      head_ = 0;
    }
    if (cur_recipients_ > peak_recipients_ ||
        (cur_recipients_ == peak_recipients_ && cur_messages_ > peak_messages_)) {
      peak_recipients_ = cur_recipients_;
      peak_messages_ = cur_messages_;
      peak_first_ = events_[head_].time;
      peak_last_ = t;
      return true;
    }
    return false;
  }

  // Recipients counted after the message arrived (no "for" list) join the current window.
  void add_recipients(uint32_t n) {
    cur_recipients_ += n;
    if (!events_.empty()) events_.back().recipients += n;
    if (cur_recipients_ > peak_recipients_) {
      peak_recipients_ = cur_recipients_;
      peak_messages_ = cur_messages_;
      peak_first_ = events_.empty() ? peak_first_ : events_[head_].time;
    }
  }

  // Where the next add() reads and writes: for prefetching.
  const void* tail() const { return events_.empty() ? nullptr : &events_.back(); }

  uint64_t peak_messages() const { return peak_messages_; }
  uint64_t peak_recipients() const { return peak_recipients_; }
  CivilSeconds peak_first() const { return peak_first_; }
  CivilSeconds peak_last() const { return peak_last_; }
  int64_t span() const { return span_; }

 private:
  struct Event {
    CivilSeconds time;
    uint32_t recipients;
  };
  int64_t span_;
  std::vector<Event> events_;
  size_t head_ = 0;
  uint64_t cur_messages_ = 0, cur_recipients_ = 0;
  uint64_t peak_messages_ = 0, peak_recipients_ = 0;
  CivilSeconds peak_first_ = 0, peak_last_ = 0;
};

}  // namespace sw::stats
