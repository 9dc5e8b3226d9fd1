#include "base/top_counts.h"

#include <algorithm>

namespace sw {

TopCounts::TopCounts(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

std::optional<std::string> TopCounts::add(std::string_view key, uint64_t n) {
  if (auto it = slots_.find(key); it != slots_.end()) {
    Slot& s = it->second;
    auto node = by_count_.extract({s.count, ~s.seq, &it->first});  // re-sorted without allocating
    s.count += n;
    std::get<0>(node.value()) = s.count;
    by_count_.insert(std::move(node));
    return std::nullopt;
  }
  std::optional<std::string> replaced;
  uint64_t inherited = 0;
  if (slots_.size() == capacity_) {
    auto least = by_count_.begin();
    auto [count, seq, least_key] = *least;
    inherited = count;
    by_count_.erase(least);
    auto node = slots_.extract(slots_.find(*least_key));
    replaced = std::move(node.key());
    ++replaced_;
  }
  auto [it, inserted] = slots_.emplace(std::string(key), Slot{inherited + n, inherited, next_seq_++});
  by_count_.insert({it->second.count, ~it->second.seq, &it->first});
  return replaced;
}

std::vector<TopCounts::Row> TopCounts::top(size_t limit) const {
  std::vector<std::pair<const std::string*, const Slot*>> kept;
  kept.reserve(slots_.size());
  for (const auto& [key, slot] : slots_) kept.emplace_back(&key, &slot);
  size_t n = limit ? std::min(limit, kept.size()) : kept.size();
  std::partial_sort(kept.begin(), kept.begin() + ptrdiff_t(n), kept.end(), [](const auto& a, const auto& b) {
    return a.second->count != b.second->count ? a.second->count > b.second->count : a.second->seq < b.second->seq;
  });
  std::vector<Row> rows;
  rows.reserve(n);
  for (size_t i = 0; i < n; ++i) rows.push_back({*kept[i].first, kept[i].second->count, kept[i].second->over});
  return rows;
}

uint64_t TopCounts::count(std::string_view key) const {
  auto it = slots_.find(key);
  return it == slots_.end() ? 0 : it->second.count;
}

}  // namespace sw
