#include "base/fd_io.h"

#include <unistd.h>

#include <cerrno>

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

}  // namespace sw
