#include "base/fd_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <string>

namespace sw {

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(std::size_t(n));
  }
  return true;
}

std::size_t pread_fully(int fd, char* dst, std::size_t length, uint64_t offset, int& error) {
  std::size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd, dst + got, length - got, off_t(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    got += std::size_t(n);
  }
  return got;
}

bool pread_exactly(int fd, uint64_t offset, std::size_t length, std::string& out) {
  out.resize(length);
  int error = 0;
  out.resize(pread_fully(fd, out.data(), length, offset, error));
  return out.size() == length;
}

bool read_file_whole(const std::string& path, std::string& out, std::string* error, bool* missing) {
  if (missing) *missing = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // never waits on a FIFO
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (missing) *missing = errno == ENOENT;
    *error = "cannot read " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    *error = path + " is not a file";
    return false;
  }
  errno = 0;
  bool whole = pread_exactly(fd, 0, std::size_t(st.st_size), out);
  int saved = errno;
  ::close(fd);
  if (!whole) *error = "cannot read " + path + ": " + (saved ? std::strerror(saved) : "it shrank while read");
  return whole;
}

bool read_file_prefix(const std::string& path, std::size_t limit, std::string* out, std::string* error,
                      bool regular_only) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (regular_only && (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    ::close(fd);
    *error = path + " is not a file";
    return false;
  }
  char buffer[65536];
  while (out->size() < limit) {
    ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, limit - out->size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace sw
