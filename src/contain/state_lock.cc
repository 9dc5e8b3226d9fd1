#include "contain/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "base/file_lock.h"
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
  std::optional<FileLock::Holder> holder;
  auto lock = FileLock::try_take(path, "", &holder, error);
  if (!lock && holder)
    *error = "another spamwarden watch " + (holder->pid.empty() ? "" : "(pid " + holder->pid + ") ") + "holds " + path;
  return lock ? std::unique_ptr<StateLock>(new StateLock(std::move(lock))) : nullptr;
}

StateLock::~StateLock() = default;

}  // namespace sw::contain
