#include "spool/spool_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sw::spool {
namespace {

constexpr size_t kMaxHeaderFileSize = 64u << 20;  // far beyond any real -H; bounds a hostile file

// Opens without updating atime where permitted (root or owner), which saves a metadata write.
int open_for_reading(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd;
}

// Reads the whole file; returns errno (0 on success). *inode identifies what we read.
int slurp(const std::string& path, std::string& buffer, ino_t* inode) {
  int fd = open_for_reading(path);
  if (fd < 0) return errno;
  struct stat st;
  if (::fstat(fd, &st) != 0 || size_t(st.st_size) > kMaxHeaderFileSize) {
    int error = errno ? errno : EFBIG;
    ::close(fd);
    return error;
  }
  *inode = st.st_ino;
  buffer.resize(size_t(st.st_size));
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  buffer.resize(done);
  ::close(fd);
  return 0;
}

// True when `path` no longer names the inode we read: deleted or renamed over.
bool replaced_since(const std::string& path, ino_t inode) {
  struct stat st;
  return ::stat(path.c_str(), &st) != 0 || st.st_ino != inode;
}

ReadResult unreadable(std::string reason) { return {ReadOutcome::unreadable, std::move(reason), -1}; }

}  // namespace

ReadResult read_message(const MessageLocation& location, SpoolHeader& header, std::string& buffer) {
  const std::string header_path = location.header_path();
  ino_t inode = 0;
  if (int error = slurp(header_path, buffer, &inode); error != 0) {
    if (error == ENOENT) return {ReadOutcome::vanished, "", -1};
    return unreadable(std::string("cannot read -H: ") + std::strerror(error));
  }
  HeaderParseStatus status = parse_spool_header(buffer, header);
  if (!status.ok()) {
    if (replaced_since(header_path, inode)) return {ReadOutcome::vanished, "", -1};
    return unreadable(std::string(describe(status.error)) + " at line " + std::to_string(status.line));
  }
  if (header.id != location.id) return unreadable("-H names another message: " + header.id);

  struct stat data;
  if (::stat(location.data_path().c_str(), &data) != 0) {
    if (replaced_since(header_path, inode)) return {ReadOutcome::vanished, "", -1};
    return unreadable("missing -D file");
  }
  int64_t first_line = int64_t(location.id.size()) + 3;  // "<id>-D\n"
  return {ReadOutcome::ok, "", data.st_size >= first_line ? data.st_size - first_line : 0};
}

}  // namespace sw::spool
