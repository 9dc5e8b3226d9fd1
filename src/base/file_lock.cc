#include "base/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace sw {
namespace {

FileLock::Holder parse_holder(std::string_view text) {
  size_t nl = text.find('\n');
  FileLock::Holder h;
  h.pid = std::string(text.substr(0, nl));
  if (nl != std::string_view::npos) {
    std::string_view note = text.substr(nl + 1);
    while (!note.empty() && note.back() == '\n') note.remove_suffix(1);
    h.note = std::string(note);
  }
  return h;
}

FileLock::Holder holder_of(int fd) {
  char buf[4096];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  return parse_holder(std::string_view(buf, n > 0 ? size_t(n) : 0));
}

}  // namespace

FileLock::Holder FileLock::read_holder(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return {};
  Holder h = holder_of(fd);
  ::close(fd);
  return h;
}

std::optional<FileLock::Holder> FileLock::holder_if_held(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<Holder> held;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) held = holder_of(fd);
  }
  ::close(fd);  // drops the shared lock, if it was taken
  return held;
}

std::unique_ptr<FileLock> FileLock::open(const std::string& path, std::string* error) {
  // Not inherited by children (Exim, alert commands), and never through a link: the holder
  // truncates the file to write its pid. Read-only when another user created it: a flock needs
  // no write access, the pid is then simply not written.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  bool writable = fd >= 0;
  if (fd < 0 && errno == EACCES) fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<FileLock>(new FileLock(fd, path, writable));
}

bool FileLock::try_lock(const std::string& note, std::optional<Holder>* holder, std::string* error) {
  holder->reset();
  if (held_) return true;
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      *holder = holder_of(fd_);
      *error = path_ + " is held by " + (*holder)->who();
    } else {
      *error = "cannot lock " + path_ + ": " + std::strerror(errno);
    }
    return false;
  }
  std::string text = std::to_string(::getpid()) + "\n" + (note.empty() ? "" : note + "\n");
  if (writable_ && (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) != ssize_t(text.size()))) {
    *error = "cannot write " + path_ + ": " + std::strerror(errno);
    ::flock(fd_, LOCK_UN);
    return false;
  }
  return held_ = true;
}

std::unique_ptr<FileLock> FileLock::try_take(const std::string& path, const std::string& note,
                                             std::optional<Holder>* holder, std::string* error) {
  holder->reset();
  auto lock = open(path, error);
  return lock && lock->try_lock(note, holder, error) ? std::move(lock) : nullptr;
}

FileLock::~FileLock() { ::close(fd_); }

}  // namespace sw
