#include "contain/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "contain/hold_list.h"

namespace sw::contain {
namespace {

bool make_directories(const std::string& dir, std::string* error) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string prefix = dir.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = "cannot create " + prefix + ": " + std::strerror(errno);
      return false;
    }
    if (slash == std::string::npos) break;
  }
  struct stat st;
  int problem = ::stat(dir.c_str(), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  if (problem) *error = "cannot use " + dir + ": " + std::strerror(problem);
  return problem == 0;
}

// The pid a running `watch` wrote into its lock file ("" if it has not yet).
std::string lock_holder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string_view text(buf, n > 0 ? size_t(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text);
}

}  // namespace

bool ensure_writable_directory(const std::string& dir, std::string* error) {
  if (!make_directories(dir, error)) return false;
  // Mode bits say nothing for root; a read-only mount or an immutable directory only shows
  // when a file is created.
  std::string probe = dir + "/.spamwarden-write-check.XXXXXX";
  int fd = ::mkstemp(probe.data());
  bool ok = fd >= 0 && ::write(fd, "x", 1) == 1;
  int saved = errno;
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
  }
  if (!ok) *error = "cannot write in " + dir + ": " + std::strerror(saved);
  return ok;
}

std::string state_lock_path(const std::string& state_dir) { return state_dir + "/watch.lock"; }

std::unique_ptr<StateLock> StateLock::acquire(const std::string& state_dir, std::string* error) {
  if (!ensure_writable_directory(state_dir, error) || !ensure_writable_directory(hold_list_dir(state_dir), error) ||
      !is_private_directory(state_dir, error) || !is_private_directory(hold_list_dir(state_dir), error))
    return nullptr;
  std::string path = state_lock_path(state_dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);  // not inherited by Exim or alert commands
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      std::string pid = lock_holder(fd);
      *error = "another spamwarden watch " + (pid.empty() ? std::string() : "(pid " + pid + ") ") + "holds " + path;
    } else {
      *error = "cannot lock " + path + ": " + std::strerror(errno);
    }
    ::close(fd);
    return nullptr;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<StateLock>(new StateLock(fd));
}

StateLock::~StateLock() { ::close(fd_); }

}  // namespace sw::contain
