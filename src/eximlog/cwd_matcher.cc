#include "eximlog/cwd_matcher.h"

#include <algorithm>

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
    if (a.starts_with("-M") || a.starts_with("-q") || a.starts_with("-R") || a.starts_with("-S") || a.starts_with("-E"))
      return false;
    if (a.starts_with("-b") && a != "-bm" && a != "-bs" && a != "-bS") return false;
    i = end + 1;
  }
  return true;
}

std::string_view home_login(std::string_view dir) {
  if (!dir.starts_with("/home")) return {};
  size_t at = dir.find_first_not_of("0123456789", 5);  // /home, /home2, /home3 ...
  if (at == std::string_view::npos || dir[at] != '/') return {};
  auto component = [&](size_t from) {
    size_t end = dir.find('/', from);
    return dir.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from);
  };
  std::string_view login = component(at + 1);
  if (login == "virtfs") login = component(std::min(dir.size(), at + 1 + login.size() + 1));  // jailed shells
  if (login == "." || login == "..") return {};
  return login;
}

void CwdMatcher::add(CivilSeconds time, uint32_t pid, uint32_t token, std::string_view dir) {
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
  fifo_.push_back({p, std::string(home_login(dir))});
  if (fifo_.size() > kFifoMax) fifo_.pop_front();
}

uint32_t CwdMatcher::take(CivilSeconds time, uint32_t pid, std::string_view login) {
  uint32_t token = kNone;
  if (pid) {
    if (Pending* e = by_pid_.find(pid)) {
      if (time - e->time <= kMaxAgeWithPid) token = e->token;
      by_pid_.erase(pid);
    }
    return token;
  }
  while (!fifo_.empty() && fifo_.front().cwd.time < time - kMaxAgeNoPid) fifo_.pop_front();
  if (fifo_.empty()) return token;
  // Two users' scripts submitting in the same seconds: a script in the login's own home is far
  // likelier its own than the oldest line, which may be the other user's.
  auto own = login.empty()
                 ? fifo_.end()
                 : std::find_if(fifo_.begin(), fifo_.end(), [&](const Unpaired& u) { return u.home_login == login; });
  if (own == fifo_.end()) own = fifo_.begin();
  token = own->cwd.token;
  fifo_.erase(own);
  return token;
}

}  // namespace sw::eximlog
