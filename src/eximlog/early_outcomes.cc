#include "eximlog/early_outcomes.h"

namespace sw::eximlog {

void EarlyOutcomes::forget(Entry& e) {
  e.live = false;
  --live_;
  bytes_ -= e.raw.size();
  --buckets_[bucket_of(e.id)];
}

void EarlyOutcomes::release(Entry& e) {
  if (e.raw.capacity() > 4096) std::string().swap(e.raw);
}

void EarlyOutcomes::trim() {
  while (used_ > 0 && !ring_[head_].live) head_ = (head_ + 1) % kMax, --used_;
  if (used_ == 0) head_ = 0;
}

size_t EarlyOutcomes::pop_oldest() {
  Entry& e = ring_[head_];
  size_t was_live = e.live ? 1 : 0;
  if (e.live) forget(e), release(e);
  head_ = (head_ + 1) % kMax, --used_;
  return was_live;
}

// From the oldest held, while they are out of time: lines come in log order, so this is a
// line or two per call, not the whole ring (a line out of order waits for the caps).
size_t EarlyOutcomes::expire(CivilSeconds now) {
  size_t dropped = 0;
  trim();
  while (used_ > 0 && (ring_[head_].time < now - kWait || ring_[head_].time > now + kWait)) {
    dropped += pop_oldest();
    trim();
  }
  return dropped;
}

void EarlyOutcomes::push(const MessageKey& id, CivilSeconds time, std::string_view raw, uint64_t tag) {
  if (ring_.empty()) ring_.resize(kMax);
  Entry& e = ring_[(head_ + used_) % kMax];
  ++used_;
  e.id = id, e.time = time, e.tag = tag, e.raw.assign(raw), e.live = true;
  ++live_;
  bytes_ += raw.size();
  ++buckets_[bucket_of(id)];
}

// Live lines moved together, in order, behind the ring's head: a line waiting longer than the
// others (its arrival is late, or never comes) leaves the slots of those taken since free.
void EarlyOutcomes::compact() {
  size_t kept = 0;
  for (size_t i = 0; i < used_; ++i) {
    Entry& e = ring_[(head_ + i) % kMax];
    if (!e.live) continue;
    if (i != kept) std::swap(e, ring_[(head_ + kept) % kMax]);
    ++kept;
  }
  used_ = kept;
}

size_t EarlyOutcomes::hold(const MessageKey& id, CivilSeconds time, std::string_view raw, uint64_t tag) {
  size_t dropped = live_ == 0 ? 0 : expire(time);
  if (raw.size() > kMaxLineBytes) return dropped + 1;
  if (used_ == kMax && live_ < kMax) compact();
  while (used_ == kMax || bytes_ + raw.size() > kMaxBytes) dropped += pop_oldest();
  push(id, time, raw, tag);
  return dropped;
}

bool EarlyOutcomes::restore(const MessageKey& id, CivilSeconds time, std::string_view raw, uint64_t tag) {
  if (used_ == kMax || raw.size() > kMaxLineBytes || bytes_ + raw.size() > kMaxBytes) return false;
  push(id, time, raw, tag);
  return true;
}

}  // namespace sw::eximlog
