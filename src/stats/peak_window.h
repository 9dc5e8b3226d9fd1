// Densest window of a fixed length over a time-ordered stream of (time, recipients) events:
// how many messages and recipients an actor sent in its busiest `span` seconds, and when.
// Memory is the events inside one window, so it follows the sending rate, not the log size.
#pragma once
#include <array>
#include <cstdint>
#include <memory>

#include "base/civil_time.h"
#include "stats/state_io.h"

namespace sw::stats {

class PeakWindow {
 public:
  explicit PeakWindow(int64_t span) : span_(span) {}
  PeakWindow(const PeakWindow&) = delete;
  PeakWindow& operator=(const PeakWindow&) = delete;

  // Returns true when this event set a new peak (by recipients, then messages).
  bool add(CivilSeconds t, uint32_t recipients) {
    push(t, recipients);
    return note_peak();
  }
  // The same without looking for a peak: an engine that folds a later slice of the log reads
  // its first hours only to fill its windows as they stand there (Forensics::warm).
  void push(CivilSeconds t, uint32_t recipients) {
    if (count_ && t < back().time) {
      // Lines written out of order step back seconds: they join the newest event. A step of
      // minutes is the clock going back (daylight saving time ending repeats an hour in a log
      // without zones): piled onto the hour before, that hour would read as a burst, so the
      // window starts again instead.
      if (back().time - t < kClockStepBack) t = back().time;
      else restart();
    }
    push_back({t, recipients});
    cur_messages_ += 1;
    cur_recipients_ += recipients;
    while (front().time <= t - span_) {
      cur_messages_ -= 1;
      cur_recipients_ -= front().recipients;
      pop_front();
    }
  }

  // Seconds back that are the clock, not lines written out of order.
  static constexpr int64_t kClockStepBack = 600;
  // Starts the window again, its peak kept (the log's clock went back: see Forensics).
  void restart() {
    head_ = count_ = 0;
    cur_messages_ = cur_recipients_ = 0;
    if (heap_) resize(kInline);
  }

  // Recipients counted after the message arrived (no "for" list) join the current window.
  void add_recipients(uint32_t n, bool look_for_peak = true) {
    cur_recipients_ += n;
    if (count_) back().recipients += n;
    if (look_for_peak && count_) note_peak();
  }

  // Whether a window of these counts is busier than the peak so far: by recipients, then
  // messages; a tie keeps the earlier window.
  bool beaten_by(uint64_t recipients, uint64_t messages) const {
    return recipients > peak_recipients_ || (recipients == peak_recipients_ && messages > peak_messages_);
  }
  // Takes the window of the same actor from the slice of the log after this one's: its peak
  // when busier (the windows that end in that slice are all it looked at), and its events
  // when it saw any of the actor's mail (they are the last `span` seconds then).
  void append(PeakWindow& later, bool take_events) {
    if (beaten_by(later.peak_recipients_, later.peak_messages_)) {
      peak_recipients_ = later.peak_recipients_, peak_messages_ = later.peak_messages_;
      peak_first_ = later.peak_first_, peak_last_ = later.peak_last_;
    }
    if (!take_events) return;
    inline_ = later.inline_;
    heap_ = std::move(later.heap_);
    head_ = later.head_, count_ = later.count_, capacity_ = later.capacity_;
    cur_messages_ = later.cur_messages_, cur_recipients_ = later.cur_recipients_;
    later.head_ = later.count_ = 0, later.capacity_ = kInline;
  }

  // Where the next add() reads and writes outside the window itself, for prefetching: the
  // ring's last event when the ring is on the heap, else nullptr.
  const void* tail() const { return heap_ && count_ ? &heap_[(head_ + count_ - 1) & (capacity_ - 1)] : nullptr; }

  uint64_t peak_messages() const { return peak_messages_; }
  uint64_t peak_recipients() const { return peak_recipients_; }
  CivilSeconds peak_first() const { return peak_first_; }
  CivilSeconds peak_last() const { return peak_last_; }
  int64_t span() const { return span_; }
  size_t events_held() const { return count_; }
  // The time of the last event in the window (its end), when it holds any.
  CivilSeconds newest() const { return back().time; }
  size_t capacity() const { return capacity_; }

  // The whole state, the events inside the window included, so that adding to a loaded
  // window gives what adding to the saved one would have.
  void save(StateWriter& w) const {
    w.u64(count_);
    for (uint32_t i = 0; i < count_; ++i) w.pod(events()[(head_ + i) & (capacity_ - 1)]);
    for (uint64_t v : {cur_messages_, cur_recipients_, peak_messages_, peak_recipients_}) w.u64(v);
    w.pod(peak_first_);
    w.pod(peak_last_);
  }
  void load(StateReader& r) {
    uint64_t n = r.count(sizeof(Event));
    if (n > (1u << 30)) throw StateError("a peak window too large");
    uint32_t capacity = kInline;
    while (capacity < n) capacity *= 2;
    count_ = 0;
    resize(capacity);
    for (uint64_t i = 0; i < n; ++i) events()[i] = r.pod<Event>(), r.checked_time(events()[i].time);
    count_ = uint32_t(n);
    cur_messages_ = r.u64();
    cur_recipients_ = r.u64();
    peak_messages_ = r.u64();
    peak_recipients_ = r.u64();
    peak_first_ = r.time();
    peak_last_ = r.time();
  }

 private:
  struct Event {
    CivilSeconds time;
    uint32_t recipients;
    uint32_t unused = 0;  // what would be padding, zeroed: events are saved whole
  };
  // The events inside the window, in a ring. Nearly every actor has one or two at a time
  // (client IPs and accounts by the ten thousand): those fit inline, with no allocation.
  static constexpr uint32_t kInline = 2;

  const Event* events() const { return heap_ ? heap_.get() : inline_.data(); }
  Event* events() { return heap_ ? heap_.get() : inline_.data(); }
  Event& front() { return events()[head_]; }
  Event& back() { return events()[(head_ + count_ - 1) & (capacity_ - 1)]; }
  const Event& back() const { return events()[(head_ + count_ - 1) & (capacity_ - 1)]; }
  void push_back(Event e) {
    if (count_ == capacity_) resize(capacity_ * 2);
    events()[(head_ + count_) & (capacity_ - 1)] = e;
    ++count_;
  }
  void pop_front() {
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
    // After a burst, give the memory back once the window holds a small part of it.
    if (heap_ && capacity_ > 16 && count_ * 8 <= capacity_) resize(capacity_ / 4);
  }
  void resize(uint32_t capacity);  // a power of two >= count_
  bool note_peak() {
    if (!beaten_by(cur_recipients_, cur_messages_)) return false;
    peak_recipients_ = cur_recipients_;
    peak_messages_ = cur_messages_;
    peak_first_ = front().time;
    peak_last_ = back().time;
    return true;
  }

  std::array<Event, kInline> inline_{};
  std::unique_ptr<Event[]> heap_;  // when more than kInline events are in the window
  uint32_t head_ = 0, count_ = 0, capacity_ = kInline;
  int64_t span_;
  uint64_t cur_messages_ = 0, cur_recipients_ = 0;
  uint64_t peak_messages_ = 0, peak_recipients_ = 0;
  CivilSeconds peak_first_ = 0, peak_last_ = 0;
};

inline void PeakWindow::resize(uint32_t capacity) {
  if (capacity <= kInline) capacity = kInline;
  auto moved = capacity > kInline ? std::make_unique<Event[]>(capacity) : nullptr;
  Event* to = moved ? moved.get() : inline_.data();
  for (uint32_t i = 0; i < count_; ++i) to[i] = events()[(head_ + i) & (capacity_ - 1)];
  heap_ = std::move(moved);
  head_ = 0;
  capacity_ = capacity;
}

}  // namespace sw::stats
