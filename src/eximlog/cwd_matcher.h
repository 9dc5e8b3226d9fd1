// Ties a "cwd=DIR N args: ..." line to the local submission it started. Shared by the offline
// forensics engine and the live detector so both credit a script directory the same way:
// with +pid the cwd= line and the arrival share a pid (exact); without, the oldest pending
// cwd= line from the last few seconds is the best guess (see docs/logs.md). Pure, no I/O.
#pragma once
#include <cstdint>
#include <deque>
#include <string_view>
#include <utility>

#include "base/civil_time.h"
#include "base/flat_map.h"

namespace sw::eximlog {

// True when the command line is a message submission, not Exim's own queue runner, delivery
// (-M, -q, -R, -S), bounce generation (-E) or an admin query (-b except -bm/-bs/-bS).
bool is_submission_cwd(std::string_view dir, std::string_view args);

class CwdMatcher {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Remembers that a submission started in the directory identified by `token` (the
  // caller's index for that directory).
  void add(CivilSeconds time, uint32_t pid, uint32_t token);
  // The token of the cwd= line that started a local arrival at `time` by `pid` (0: no
  // +pid), or kNone; each cwd= line is used once.
  uint32_t take(CivilSeconds time, uint32_t pid);

 private:
  struct Pending {
    CivilSeconds time = 0;
    uint32_t token = kNone;
  };
  struct PidHash {
    size_t operator()(uint32_t pid) const { return size_t(pid) * 0x9E3779B97F4A7C15ull >> 20; }
  };
  FlatMap<uint32_t, Pending, PidHash> by_pid_;
  std::deque<std::pair<CivilSeconds, uint32_t>> pid_order_;  // to expire unused entries
  std::deque<Pending> fifo_;                                  // without +pid
};

}  // namespace sw::eximlog
