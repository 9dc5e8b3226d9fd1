// Ties a "cwd=DIR N args: ..." line to the local submission it started. Shared by the offline
// forensics engine and the live detector so both credit a script directory the same way:
// with +pid the cwd= line and the arrival share a pid (exact); without, a pending cwd= line
// from the last few seconds in the arriving login's home, else the oldest one, is the best
// guess (see docs/logs.md). Pure, no I/O.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

#include "base/civil_time.h"
#include "base/flat_map.h"

namespace sw::eximlog {

// True when the command line is a message submission, not Exim's own queue runner, delivery
// (-M, -q, -R, -S), bounce generation (-E) or an admin query (-b except -bm/-bs/-bS).
bool is_submission_cwd(std::string_view dir, std::string_view args);

// The login whose home directory holds `dir` when the path says so (cPanel's layout:
// /home/LOGIN/..., /home2/LOGIN, /home/virtfs/LOGIN/...), else empty.
std::string_view home_login(std::string_view dir);

class CwdMatcher {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Remembers that a submission started in directory `dir`, identified by `token` (the
  // caller's index for that directory).
  void add(CivilSeconds time, uint32_t pid, uint32_t token, std::string_view dir);
  // The token of the cwd= line that started a local arrival at `time` by `pid` (0: no
  // +pid) with U=`login`, or kNone; each cwd= line is used once.
  uint32_t take(CivilSeconds time, uint32_t pid, std::string_view login);

  // Gives every pending line's token through `to` (merging another engine's pending lines).
  template <class Fn>
  void remap(Fn to) {
    by_pid_.for_each([&](uint32_t, Pending& p) { p.token = to(p.token); });
    for (Unpaired& u : fifo_) u.cwd.token = to(u.cwd.token);
  }

  // The pending cwd= lines, for the log summary cache (W, R: stats/state_io.h). `max_token`
  // bounds the tokens a loaded state may hold.
  template <class W>
  void save(W& w) const {
    w.u64(by_pid_.size());
    by_pid_.for_each([&](uint32_t pid, const Pending& p) { w.pod(pid), w.pod(p); });
    w.u64(pid_order_.size());
    for (const auto& [time, pid] : pid_order_) w.pod(time), w.pod(pid);
    w.u64(fifo_.size());
    for (const Unpaired& u : fifo_) w.pod(u.cwd), w.str(u.home_login);
  }
  template <class R>
  void load(R& r, uint32_t max_token) {
    auto check = [&](const Pending& p) {
      if (p.token != kNone && p.token >= max_token) r.fail("a cwd= token out of range");
      return p;
    };
    for (uint64_t i = 0, n = r.count(sizeof(uint32_t) + sizeof(Pending)); i < n; ++i) {
      auto pid = r.template pod<uint32_t>();
      by_pid_[pid] = check(r.template pod<Pending>());
    }
    for (uint64_t i = 0, n = r.count(sizeof(CivilSeconds) + sizeof(uint32_t)); i < n; ++i) {
      auto time = r.time();
      pid_order_.emplace_back(time, r.template pod<uint32_t>());
    }
    for (uint64_t i = 0, n = r.count(sizeof(Pending)); i < n; ++i) {
      Pending p = check(r.template pod<Pending>());
      fifo_.push_back({p, std::string(r.str())});
    }
  }

 private:
  struct Pending {
    CivilSeconds time = 0;
    uint32_t token = kNone;
    uint32_t unused = 0;  // what would be padding, zeroed: saved whole
  };
  struct PidHash {
    size_t operator()(uint32_t pid) const { return size_t(pid) * 0x9E3779B97F4A7C15ull >> 20; }
  };
  FlatMap<uint32_t, Pending, PidHash> by_pid_;
  std::deque<std::pair<CivilSeconds, uint32_t>> pid_order_;  // to expire unused entries
  struct Unpaired {
    Pending cwd;
    std::string home_login;  // home_login() of its directory
  };
  std::deque<Unpaired> fifo_;  // without +pid
};

}  // namespace sw::eximlog
