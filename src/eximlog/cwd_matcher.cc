#include "eximlog/cwd_matcher.h"

namespace sw::eximlog {
namespace {

constexpr int64_t kMaxAgeWithPid = 300;  // a sendmail run rarely takes longer to submit
constexpr int64_t kMaxAgeNoPid = 5;      // without pids, only an adjacent arrival is credible
constexpr size_t kFifoMax = 256;

}  // namespace

bool is_submission_cwd(std::string_view dir, std::string_view args) {
  if (dir.starts_with("/var/spool/exim")) return false;
  size_t i = 0;
  while (i < args.size()) {
    size_t end = args.find(' ', i);
    if (end == std::string_view::npos) end = args.size();
    std::string_view a = args.substr(i, end - i);
    if (a.starts_with("-M") || a.starts_with("-q") || a.starts_with("-R") || a.starts_with("-S") ||
        a.starts_with("-E"))
      return false;
    if (a.starts_with("-b") && a != "-bm" && a != "-bs" && a != "-bS") return false;
    i = end + 1;
  }
  return true;
}

void CwdMatcher::add(CivilSeconds time, uint32_t pid, uint32_t token) {
  Pending p{time, token};
  if (pid) {
    by_pid_[pid] = p;
    pid_order_.emplace_back(time, pid);
    // Drop invocations that never submitted anything (an entry reused by a later cwd= line of
    // the same pid is newer, so it stays).
    while (!pid_order_.empty() && pid_order_.front().first < time - kMaxAgeWithPid) {
      auto [old_time, old_pid] = pid_order_.front();
      pid_order_.pop_front();
      if (Pending* e = by_pid_.find(old_pid); e && e->time <= old_time) by_pid_.erase(old_pid);
    }
    return;
  }
  fifo_.push_back(p);
  if (fifo_.size() > kFifoMax) fifo_.pop_front();
}

uint32_t CwdMatcher::take(CivilSeconds time, uint32_t pid) {
  uint32_t token = kNone;
  if (pid) {
    if (Pending* e = by_pid_.find(pid)) {
      if (time - e->time <= kMaxAgeWithPid) token = e->token;
      by_pid_.erase(pid);
    }
    return token;
  }
  while (!fifo_.empty() && fifo_.front().time < time - kMaxAgeNoPid) fifo_.pop_front();
  if (!fifo_.empty()) {
    token = fifo_.front().token;
    fifo_.pop_front();
  }
  return token;
}

}  // namespace sw::eximlog
