#include "queue/spool_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace sw::queue {
namespace {

bool is_plain_relative(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// O_DIRECTORY|O_NOFOLLOW on a link fails with ENOTDIR: ELOOP names the real reason.
int open_no_link(int at, const std::string& name, int flags, mode_t mode) {
  int fd = ::openat(at, name.c_str(), flags | O_NOFOLLOW, mode);
  struct stat st;
  if (fd < 0 && errno == ENOTDIR && ::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    errno = ELOOP;
  return fd;
}

// For kernels before 5.6: each directory on the way opened with O_NOFOLLOW, then the file.
int open_by_walk(int dir_fd, std::string_view relative, int flags, mode_t mode) {
  Fd current;
  int at = dir_fd;
  for (size_t slash; (slash = relative.find('/')) != std::string_view::npos;) {
    current = Fd(open_no_link(at, std::string(relative.substr(0, slash)), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
    if (!current.valid()) return -1;
    at = current.get();
    relative.remove_prefix(slash + 1);
  }
  return open_no_link(at, std::string(relative), flags, mode);
}

// True when `path` beneath dir_fd (reached without links) is itself a symbolic link.
bool is_link_beneath(int dir_fd, const std::string& path) {
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
  if (fd < 0) return false;
  struct stat st;
  bool link = ::fstat(int(fd), &st) == 0 && S_ISLNK(st.st_mode);
  ::close(int(fd));
  return link;
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int open_beneath(int dir_fd, std::string_view relative, int flags, mode_t mode) {
  if (!is_plain_relative(relative)) {
    errno = EINVAL;
    return -1;
  }
  std::string path(relative);
  open_how how{};
  how.flags = uint64_t(flags | O_NOFOLLOW);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return int(fd);
    if (errno == EINTR || errno == EAGAIN) continue;  // EAGAIN: a concurrent rename, try again
    if (errno == ENOSYS) return open_by_walk(dir_fd, relative, flags, mode);
    // O_DIRECTORY|O_NOFOLLOW on a link says ENOTDIR: name the real reason.
    if (errno == ENOTDIR && (flags & O_DIRECTORY) && is_link_beneath(dir_fd, path)) errno = ELOOP;
    return -1;
  }
}

bool read_regular_file(int fd, std::string& out, struct stat* st) {
  out.clear();
  if (::fstat(fd, st) != 0) return false;
  if (!S_ISREG(st->st_mode)) {
    errno = EINVAL;
    return false;
  }
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out.append(buffer, size_t(n));
  }
  return true;
}

bool write_file_at(int dir_fd, const std::string& name, const std::string& shown, const std::string& bytes,
                   uint32_t mode, int uid, int gid, std::string* error) {
  std::string temporary = ".sw-tmp." + std::to_string(::getpid()) + "." + name;
  int fd = ::openat(dir_fd, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
  if (fd < 0) {
    *error = "cannot create a temporary file for " + shown + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  bool ok = done == bytes.size() && ::fchmod(fd, mode & 07777) == 0 && (uid < 0 || ::fchown(fd, uid, gid) == 0) &&
            ::fsync(fd) == 0;
  if (!ok) *error = "cannot write " + shown + ": " + std::strerror(errno);
  ::close(fd);
  if (ok && ::renameat(dir_fd, temporary.c_str(), dir_fd, name.c_str()) != 0) {
    *error = "cannot rename into " + shown + ": " + std::strerror(errno);
    ok = false;
  }
  if (!ok) ::unlinkat(dir_fd, temporary.c_str(), 0);
  return ok;
}

std::string canonical_path(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) ? std::string(resolved) : std::string();
}

std::string open_failure(const std::string& shown) {
  if (errno == ELOOP) return shown + " is a symbolic link or lies behind one: not followed";
  if (errno == EXDEV || errno == EINVAL) return shown + " is not a plain path inside its directory";
  return "cannot open " + shown + ": " + std::strerror(errno);
}

}  // namespace sw::queue
