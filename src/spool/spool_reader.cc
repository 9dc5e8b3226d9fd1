#include "spool/spool_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sw::spool {
namespace {

constexpr size_t kMaxHeaderFileSize = 64u << 20;  // far beyond any real -H; bounds a hostile file
constexpr size_t kInitialBuffer = 16384;          // most -H files fit: one read() call

// Opens without updating atime where permitted (root or owner), which saves a metadata write.
// Never through a symbolic link (root would read whatever it points to as a message), and
// without waiting on a FIFO planted in the spool (it then reads as empty: unreadable).
int open_for_reading(int dir_fd, const char* name) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  return fd;
}

// Reads to EOF into buffer, setting *length; returns errno (0 on success). A short read of a
// regular file means EOF, so a small file costs one read() and no fstat(). The buffer keeps its
// size between calls (resizing it would clear it, a memset per message).
int read_all(int fd, std::string& buffer, size_t* length) {
  if (buffer.size() < kInitialBuffer) buffer.resize(kInitialBuffer);
  size_t& done = *length;
  done = 0;
  for (;;) {
    if (done == buffer.size()) {
      if (buffer.size() >= kMaxHeaderFileSize) return EFBIG;
      buffer.resize(buffer.size() * 2);
    }
    ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    done += size_t(n);
    if (done < buffer.size()) break;
  }
  return 0;
}

// True when `name` no longer names the file open as `fd`: deleted or renamed over.
bool replaced_since(int dir_fd, const char* name, int fd) {
  struct stat now, then;
  return ::fstat(fd, &then) != 0 || ::fstatat(dir_fd, name, &now, 0) != 0 || now.st_ino != then.st_ino;
}

ReadResult unreadable(std::string reason) { return {ReadOutcome::unreadable, std::move(reason), -1}; }

class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  ~FileCloser() { ::close(fd_); }

 private:
  int fd_;
};

}  // namespace

ReadResult read_message_at(int dir_fd, const MessageLocation& location, SpoolHeader& header, std::string& buffer,
                           bool body_size) {
  char name[64];
  if (location.id.size() > sizeof name - 3) return unreadable("bad id");
  std::memcpy(name, location.id.data(), location.id.size());
  std::memcpy(name + location.id.size(), "-H", 3);
  int fd = open_for_reading(dir_fd, name);
  if (fd < 0) {
    if (errno == ENOENT) return {ReadOutcome::vanished, "", -1};
    if (errno == ELOOP) return unreadable("-H is a symbolic link: not read");
    return unreadable(std::string("cannot read -H: ") + std::strerror(errno));
  }
  FileCloser closer(fd);
  size_t length = 0;
  if (int error = read_all(fd, buffer, &length); error != 0)
    return unreadable(std::string("cannot read -H: ") + std::strerror(error));
  HeaderParseStatus status = parse_spool_header(std::string_view(buffer.data(), length), header);
  if (!status.ok()) {
    if (replaced_since(dir_fd, name, fd)) return {ReadOutcome::vanished, "", -1};
    return unreadable(std::string(describe(status.error)) + " at line " + std::to_string(status.line));
  }
  if (header.id != location.id) return unreadable("-H names another message: " + header.id);
  if (!body_size && location.data_seen) return {ReadOutcome::ok, "", -1};

  name[location.id.size() + 1] = 'D';
  struct stat data;
  if (::fstatat(dir_fd, name, &data, 0) != 0) {
    name[location.id.size() + 1] = 'H';
    if (replaced_since(dir_fd, name, fd)) return {ReadOutcome::vanished, "", -1};
    return unreadable("missing -D file");
  }
  if (!body_size) return {ReadOutcome::ok, "", -1};
  return {ReadOutcome::ok, "", body_size_from_data_file(location, data.st_size)};
}

ReadResult read_message(const MessageLocation& location, SpoolHeader& header, std::string& buffer, bool body_size) {
  int dir_fd = ::open(location.input_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    if (errno == ENOENT) return {ReadOutcome::vanished, "", -1};
    return unreadable(location.input_dir + ": " + std::strerror(errno));
  }
  ReadResult result = read_message_at(dir_fd, location, header, buffer, body_size);
  ::close(dir_fd);
  return result;
}

}  // namespace sw::spool
