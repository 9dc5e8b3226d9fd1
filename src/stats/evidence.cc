#include "stats/evidence.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/text.h"

namespace sw::stats {
namespace {

uint32_t check_of(std::string_view s) { return uint32_t(hash_bytes(s, false)); }

}  // namespace

LineRef EvidenceLines::keep(std::string_view line) {
  if (line.size() > kMaxLineBytes) line = line.substr(0, kMaxLineBytes);
  LineRef r;
  r.length = uint32_t(line.size());
  r.check = check_of(line);
  const char* base = origin_ ? origin_->bytes.data() : nullptr;
  if (base && line.data() >= base && line.data() + line.size() <= base + origin_->bytes.size()) {
    uint64_t offset = origin_->offset + uint64_t(line.data() - base);
    // Both fit in `where` on any real input; a copy is the fallback, never a wrong place.
    if (origin_->input < (1u << (63 - LineRef::kInputShift)) && offset < (uint64_t(1) << LineRef::kInputShift)) {
      r.where = uint64_t(origin_->input) << LineRef::kInputShift | offset;
      return r;
    }
  }
  r.where = LineRef::kCopied | uint64_t(reinterpret_cast<uintptr_t>(copies_.store(line).data()));
  return r;
}

LineRef EvidenceLines::restore_copy(LineRef ref, std::string_view text) {
  ref.length = uint32_t(text.size());
  ref.where = LineRef::kCopied | uint64_t(reinterpret_cast<uintptr_t>(copies_.store(text).data()));
  return ref;
}

LineRef EvidenceLines::restore_in_place(LineRef ref, std::string_view text,
                                        const std::shared_ptr<const void>& backing) {
  if (backings_.empty() || backings_.back() != backing) backings_.push_back(backing);
  ref.length = uint32_t(text.size());
  ref.where = LineRef::kCopied | uint64_t(reinterpret_cast<uintptr_t>(text.data()));
  return ref;
}

namespace {

// A copy's address means nothing to the run that loads it (load_ref gives the text a new
// one): only its flag is saved, so that an entry holds no heap address and the same state
// always gives the same bytes.
void save_ref(StateWriter& w, const LineRef& r) {
  bool copied = r.copied();
  LineRef saved = r;
  if (copied) saved.where = LineRef::kCopied;
  w.pod(saved);
  if (copied) w.str(r.copied_text());
}

LineRef load_ref(StateReader& r, EvidenceLines& copies) {
  auto ref = r.pod<LineRef>();
  if (ref.length > EvidenceLines::kMaxLineBytes) throw StateError("an evidence line too long");
  if (!ref.copied()) return ref;
  std::string_view text = r.str_in_place();
  return r.backing() ? copies.restore_in_place(ref, text, r.backing()) : copies.restore_copy(ref, text);
}

}  // namespace

void PeakLines::save(StateWriter& w) const {
  auto lines = oldest_first();
  w.u64(lines.size());
  for (const Line& l : lines) save_ref(w, l.line), w.u64(l.recipients), w.u64(l.messages);
}

void PeakLines::load(StateReader& r, EvidenceLines& copies) {
  uint64_t n = r.u64();
  if (n > kPeaks) throw StateError("too many peak lines");
  for (uint64_t i = 0; i < n; ++i) {
    Line l;
    l.line = load_ref(r, copies);
    l.recipients = r.u64(), l.messages = r.u64();
    add(l);
  }
}

void Evidence::save(StateWriter& w) const {
  w.pod(first_count_);
  w.pod(recent_count_);
  for (uint32_t i = 0; i < first_count_; ++i) save_ref(w, first_[i]), w.pod(first_marks_[i]);
  for (uint32_t i = 0; i < std::min<uint32_t>(recent_count_, kKept); ++i)
    save_ref(w, recent_[i]), w.pod(recent_marks_[i]);
}

void Evidence::load(StateReader& r, EvidenceLines& copies) {
  first_count_ = r.pod<uint32_t>();
  recent_count_ = r.pod<uint32_t>();
  if (first_count_ > kFirst) throw StateError("evidence out of range");
  auto mark = [&] {
    auto m = r.pod<uint8_t>();
    if (m > uint8_t(Mark::kFirstFailedLogin)) throw StateError("an evidence mark out of range");
    return Mark(m);
  };
  for (uint32_t i = 0; i < first_count_; ++i) first_[i] = load_ref(r, copies), first_marks_[i] = mark();
  for (uint32_t i = 0; i < std::min<uint32_t>(recent_count_, kKept); ++i)
    recent_[i] = load_ref(r, copies), recent_marks_[i] = mark();
}

std::string EvidenceLines::text(const LineRef& r) const {
  if (r.copied()) return std::string(r.copied_text());
  auto input = uint32_t(r.where >> LineRef::kInputShift);
  uint64_t offset = r.where & ((uint64_t(1) << LineRef::kInputShift) - 1);
  std::string name = input < names_.size() ? names_[input] : fmt::format("input {}", input + 1);
  if (!reader_) return fmt::format("(the line at byte {} of {}: the input is closed)", offset, name);
  std::string out;
  if (reader_(input, offset, r.length, out) && check_of(out) == r.check) return out;
  return fmt::format("(the line at byte {} of {} changed after it was read)", offset, name);
}

std::vector<std::string> EvidenceLines::texts(const Evidence& e) const {
  std::vector<std::string> out;
  for (const LineRef& r : e.lines()) out.push_back(text(r));
  return out;
}

}  // namespace sw::stats
