// Outcome lines Exim writes before their message's arrival line: a cutthrough delivery's ">>"
// is logged when the next hop has accepted the data, just before "<=" (exim-formats 1.4).
// Kept a short while, as copies, for the arrival to claim; shared by the forensics engine,
// the actor story and the live detector, so each counts those deliveries as its message's.
// Pure, no I/O.
#pragma once
#include <cstddef>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
    uint64_t tag = 0;  // the holder's own note on the line (the engine: its address's hash)
    std::string raw;
    bool live = false;  // held: not yet taken or dropped
  };
  // The arrival follows in the same second (the same process writes both); a minute leaves
  // room for a busy log's interleaving. Past it, or past the caps, a line is an orphan.
  static constexpr CivilSeconds kWait = 60;
  static constexpr size_t kMax = 512;  // a busy relay's sessions finishing DATA at once
  // A ">>" line is a few hundred bytes: copies of hostile megabyte lines are not kept.
  static constexpr size_t kMaxLineBytes = 16 << 10, kMaxBytes = 1 << 20;

  // Keeps a copy of the line (or none: a reader that needs only its time); returns how many
  // lines it dropped (expired, the oldest past the caps, or this one when longer than
  // kMaxLineBytes).
  size_t hold(const MessageKey& id, CivilSeconds time, std::string_view raw, uint64_t tag = 0);
  // Drops the oldest lines while they were held longer than kWait before `now` (or are as long
  // after it: a clock that went back); returns how many.
  size_t expire(CivilSeconds now);
  // Calls f(entry) on each line held for `id`, oldest first (at most `max` of them), and
  // forgets them; returns how many. An id with none held costs a look at a bucket of counts,
  // not a walk of the ring. f must not hold() (the ring's slots would move under it).
  template <class F>
  size_t take(const MessageKey& id, F&& f, size_t max = SIZE_MAX) {
    size_t bucket = bucket_of(id);
    uint16_t in_bucket = buckets_[bucket];
    if (in_bucket == 0) return 0;
    // From the newest back (an arrival's lines were held just before it), as far as the last
    // line of its bucket; then in log order.
    found_.clear();
    for (size_t i = used_; i-- > 0 && in_bucket > 0;) {
      size_t slot = (head_ + i) % kMax;
      const Entry& e = ring_[slot];
      if (!e.live || bucket_of(e.id) != bucket) continue;
      --in_bucket;
      if (e.id == id) found_.push_back(uint32_t(slot));
    }
    size_t taken = 0;
    for (size_t k = found_.size(); k-- > 0 && taken < max; ++taken) {
      Entry& e = ring_[found_[k]];
      forget(e);
      f(static_cast<const Entry&>(e));
      release(e);
    }
    trim();
    return taken;
  }

  // What an arrival does: lets go of the lines held longer than kWait before `now` (returns
  // how many), then takes its own.
  template <class F>
  size_t claim(const MessageKey& id, CivilSeconds now, F&& f) {
    size_t expired = expire(now);
    take(id, f);
    return expired;
  }
  // Forgets the oldest line held for `id`; false when none was.
  bool drop_one(const MessageKey& id) {
    return take(
               id, [](const Entry&) {}, 1) == 1;
  }

  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }
  // Calls f(entry) on each line held, oldest first.
  template <class F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < used_; ++i)
      if (const Entry& e = ring_[(head_ + i) % kMax]; e.live) f(e);
  }
  // Restores a saved entry (oldest first); false past the caps.
  bool restore(const MessageKey& id, CivilSeconds time, std::string_view raw, uint64_t tag);

 private:
  static constexpr size_t kBuckets = 4096;
  static size_t bucket_of(const MessageKey& id) { return MessageKeyHash{}(id) % kBuckets; }
  void push(const MessageKey& id, CivilSeconds time, std::string_view raw, uint64_t tag);
  void forget(Entry& e);   // no longer live: the counts and bytes without it
  void release(Entry& e);  // a slot's copy of a long line gives its memory back
  void trim();             // the ring starts at its oldest live line
  void compact();
  size_t pop_oldest();  // 1 when the slot it frees held a live line
  // Slots are reused, and their strings with them: holding a line allocates nothing once the
  // ring has run round (a relay logs a ">>" line for most of its mail).
  std::vector<Entry> ring_;
  size_t head_ = 0, used_ = 0, live_ = 0, bytes_ = 0;
  std::array<uint16_t, kBuckets> buckets_{};  // live lines per bucket of their ids
  std::vector<uint32_t> found_;               // take()'s slots, newest first
};

}  // namespace sw::eximlog
