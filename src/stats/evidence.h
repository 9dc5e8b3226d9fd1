// Up to five log lines that show what an actor did: the first two it was seen in, and the
// three most recent "interesting" ones (a new peak, a rejection), so a burst late in a long
// log still shows lines from the burst itself.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace sw::stats {

class Evidence {
 public:
  static constexpr size_t kFirst = 2, kRecent = 3;
  static constexpr size_t kMaxLineBytes = 1000;  // evidence is for reading, not archiving

  void add(std::string_view line) {
    if (line.size() > kMaxLineBytes) line = line.substr(0, kMaxLineBytes);
    if (first_.size() < kFirst) {
      first_.emplace_back(line);
      return;
    }
    recent_[recent_count_ % kRecent].assign(line);
    ++recent_count_;
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out(first_);
    size_t n = recent_count_ < kRecent ? recent_count_ : kRecent;
    for (size_t i = 0; i < n; ++i) out.push_back(recent_[(recent_count_ - n + i) % kRecent]);
    return out;
  }

 private:
  std::vector<std::string> first_;
  std::array<std::string, kRecent> recent_;
  size_t recent_count_ = 0;
};

}  // namespace sw::stats
