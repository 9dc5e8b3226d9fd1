#include "stats/evidence.h"

#include <fmt/format.h>

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

std::string EvidenceLines::text(const LineRef& r) const {
  if (r.where & LineRef::kCopied)
    return std::string(reinterpret_cast<const char*>(uintptr_t(r.where & ~LineRef::kCopied)), r.length);
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
