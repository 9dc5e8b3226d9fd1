#include "classify/journal_entry.h"

#include <charconv>

namespace sw::classify {
namespace {

constexpr std::string_view kJournalMagic = "swj1";
constexpr uint8_t kSpam = 1, kForget = 2;
constexpr std::size_t kHeader = 4 + 1 + 4;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(char(uint8_t(v >> (8 * i))));
}

uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(in[at + std::size_t(i)])) << (8 * i);
  return v;
}

bool fail(std::string* error, const char* why) {
  if (error) *error = why;
  return false;
}

}  // namespace

std::string encode_entry(const JournalEntry& entry) {
  std::string out(kJournalMagic);
  out.reserve(kHeader + 8 * entry.hashes.size());
  out.push_back(char((entry.spam ? kSpam : 0) | (entry.forget ? kForget : 0)));
  put_le(out, entry.hashes.size(), 4);
  for (uint64_t h : entry.hashes) put_le(out, h, 8);
  return out;
}

bool decode_entry(std::string_view bytes, JournalEntry* out, std::string* error) {
  if (bytes.size() < kHeader || bytes.substr(0, 4) != kJournalMagic)
    return fail(error, "not a journal entry of version 1");
  auto flags = uint8_t(bytes[4]);
  if (flags & ~(kSpam | kForget)) return fail(error, "unknown flags");
  uint64_t count = get_le(bytes, 5, 4);
  if (count > kMaxEntryHashes) return fail(error, "too many features");
  if (bytes.size() != kHeader + 8 * count) return fail(error, "length does not match the feature count");
  JournalEntry e;
  e.spam = flags & kSpam;
  e.forget = flags & kForget;
  e.hashes.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t h = get_le(bytes, kHeader + 8 * i, 8);
    if (!e.hashes.empty() && h <= e.hashes.back()) return fail(error, "features out of order or repeated");
    e.hashes.push_back(h);
  }
  *out = std::move(e);
  return true;
}

std::optional<StreamId> StreamId::parse(std::string_view text) {
  std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  StreamId id;
  auto whole = [](std::string_view part, uint64_t& v) {
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    return !part.empty() && ec == std::errc() && end == part.data() + part.size();
  };
  if (!whole(text.substr(0, dash), id.ms) || !whole(text.substr(dash + 1), id.seq)) return std::nullopt;
  return id;
}

}  // namespace sw::classify
