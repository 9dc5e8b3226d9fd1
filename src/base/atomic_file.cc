#include "base/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "base/fd_io.h"

namespace sw {

namespace {

// Removes the files of `dir` named NAME.tmp.PID, for the NAMEs `belongs` accepts, whose process
// is no longer running and which are untouched for `min_age`.
template <class Belongs>
size_t remove_dead_writers_files(const std::filesystem::path& dir, Belongs belongs, std::chrono::seconds min_age) {
  namespace fs = std::filesystem;
  size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    size_t tmp = name.rfind(".tmp.");
    if (tmp == std::string::npos || !belongs(std::string_view(name).substr(0, tmp))) continue;
    std::string_view digits = std::string_view(name).substr(tmp + 5);
    pid_t pid = 0;
    auto [at, err] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (err != std::errc() || at != digits.data() + digits.size() || pid <= 0) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // running (EPERM: someone else's, running)
    auto age = fs::file_time_type::clock::now() - fs::last_write_time(it->path(), ec);
    if (ec || age < min_age) continue;
    removed += ::unlink(it->path().c_str()) == 0;
  }
  return removed;
}

}  // namespace

std::string temporary_path(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

size_t remove_stale_temporaries(const std::string& path) {
  std::filesystem::path target(path);
  std::string name = target.filename().string();
  return remove_dead_writers_files(
      target.has_parent_path() ? target.parent_path() : ".", [&](std::string_view n) { return n == name; },
      kStaleTemporaryAge);
}

size_t remove_stale_temporaries_in(const std::string& dir, std::string_view suffix, std::chrono::seconds min_age) {
  return remove_dead_writers_files(
      dir, [&](std::string_view n) { return n.ends_with(suffix); }, min_age);
}

bool write_file_atomically(const std::string& path, std::string_view bytes, std::string* error, int mode) {
  remove_stale_temporaries(path);
  std::string temp = temporary_path(path);
  // Created, never opened if it exists: a link planted under this name is not written through.
  // What is there is this process's own leftover (a write that failed) or a plant: removed once.
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno == EEXIST && ::unlink(temp.c_str()) == 0)
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "cannot write " + temp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = write_all(fd, bytes) && ::fsync(fd) == 0;
  int saved_errno = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) ok = false, saved_errno = errno;
  if (!ok) {
    ::unlink(temp.c_str());
    *error = "cannot write " + path + ": " + std::strerror(saved_errno);
    return false;
  }
  // The rename itself must survive a crash too: the directory's entry is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) ::fsync(dfd), ::close(dfd);
  return true;
}

}  // namespace sw
