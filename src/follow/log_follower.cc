#include "follow/log_follower.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace sw::follow {

namespace {
constexpr size_t kReadChunk = 4u << 20;
// Exim's lines stay under 8 KB; a "line" that goes on for megabytes (a binary written into the
// log, an attacker's flood without newlines) is cut here, as `logs` cuts it, so the bytes kept
// for an unfinished line stay bounded.
constexpr size_t kMaxLineBytes = 4u << 20;

void append_capped(std::string& partial, std::string_view bytes) {
  if (partial.size() < kMaxLineBytes) partial.append(bytes.substr(0, kMaxLineBytes - partial.size()));
}
}  // namespace

LogFollower::LogFollower(std::string path, bool from_start) : path_(std::move(path)), buffer_(kReadChunk) {
  // "The end" is the end now; a log that does not exist yet is new, so it is read from 0.
  open_current(!from_start);
}

LogFollower::~LogFollower() {
  close_fd();
  if (old_fd_ >= 0) ::close(old_fd_);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void LogFollower::wait(std::chrono::milliseconds timeout) {
  size_t slash = path_.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  std::string_view base =
      slash == std::string::npos ? std::string_view(path_) : std::string_view(path_).substr(slash + 1);
  if (!inotify_tried_) {
    inotify_tried_ = true;
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    constexpr uint32_t kMask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                               IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF;
    if (inotify_fd_ >= 0 && ::inotify_add_watch(inotify_fd_, dir.c_str(), kMask) < 0) {
      ::close(inotify_fd_);  // no directory yet (or no inotify): poll, and try again next time
      inotify_fd_ = -1;
      inotify_tried_ = false;
    }
  }
  if (inotify_fd_ < 0) {
    std::this_thread::sleep_for(timeout);
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{inotify_fd_, POLLIN, 0};
    if (::poll(&p, 1, int(left.count())) <= 0) return;  // timeout, or a signal
    alignas(inotify_event) char events[8192];
    bool ours = false, gone = false;
    for (;;) {
      ssize_t n = ::read(inotify_fd_, events, sizeof events);
      if (n <= 0) break;
      for (ssize_t at = 0; at < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(events + at);
        at += ssize_t(sizeof(inotify_event) + e->len);
        if (e->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) ours = true;
        if (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) gone = true;
        if (e->len > 0 && std::string_view(e->name).starts_with(base)) ours = true;
      }
    }
    if (gone) {  // the directory itself went away or moved: watch it afresh next time
      ::close(inotify_fd_);
      inotify_fd_ = -1;
      inotify_tried_ = false;
    }
    if (ours) return;
  }
}

// Lines appended to the renamed-away file after we switched (a process that opened the log
// before the rename writes there until it reopens by name). final: close it, flushing a partial.
size_t LogFollower::drain_old(const std::function<void(std::string_view)>& on_line, bool final) {
  size_t lines = 0;
  for (int rounds = 0; rounds < 64; ++rounds) {  // bounded: at most 64 chunks per poll
    ssize_t n = ::pread(old_fd_, buffer_.data(), buffer_.size(), off_t(old_offset_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    old_offset_ += uint64_t(n);
    stats_.bytes += uint64_t(n);
    std::string_view chunk(buffer_.data(), size_t(n));
    size_t start = 0;
    for (size_t nl; (nl = chunk.find('\n', start)) != std::string_view::npos; start = nl + 1) {
      append_capped(old_partial_, chunk.substr(start, nl - start));
      on_line(old_partial_);
      old_partial_.clear();
      ++lines;
    }
    append_capped(old_partial_, chunk.substr(start));
  }
  if (final) {
    if (!old_partial_.empty()) {
      on_line(old_partial_);
      old_partial_.clear();
      ++lines;
    }
    ::close(old_fd_);
    old_fd_ = -1;
  }
  stats_.lines += lines;
  return lines;
}

void LogFollower::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool LogFollower::open_current(bool at_end) {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::string e = "cannot open " + path_ + ": " + std::strerror(errno);
    if (e != error_) ++stats_.open_failures;
    error_ = e;
    return false;
  }
  struct stat st {};
  ::fstat(fd, &st);
  if (!S_ISREG(st.st_mode)) {  // a directory reads as EISDIR forever and its size never drains
    ::close(fd);
    std::string e = path_ + " is not a regular file" + (S_ISDIR(st.st_mode) ? " (a directory)" : "");
    if (e != error_) ++stats_.open_failures;
    error_ = e;
    return false;
  }
  close_fd();
  fd_ = fd;
  inode_ = st.st_ino;
  device_ = st.st_dev;
  offset_ = at_end ? uint64_t(st.st_size) : 0;
  error_.clear();
  return true;
}

size_t LogFollower::read_some(const std::function<void(std::string_view)>& on_line, size_t max_bytes, bool* eof) {
  size_t lines = 0, total = 0;
  *eof = false;
  while (total < max_bytes) {
    ssize_t n = ::pread(fd_, buffer_.data(), buffer_.size(), off_t(offset_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) error_ = "cannot read " + path_ + ": " + std::strerror(errno);
      *eof = true;
      break;
    }
    offset_ += uint64_t(n);
    total += size_t(n);
    stats_.bytes += uint64_t(n);
    std::string_view chunk(buffer_.data(), size_t(n));
    size_t start = 0;
    for (size_t nl; (nl = chunk.find('\n', start)) != std::string_view::npos; start = nl + 1) {
      std::string_view piece = chunk.substr(start, nl - start);
      if (!partial_.empty()) {
        append_capped(partial_, piece);
        on_line(partial_);
        partial_.clear();
      } else {
        on_line(piece);
      }
      ++lines;
    }
    append_capped(partial_, chunk.substr(start));
  }
  stats_.lines += lines;
  return lines;
}

void LogFollower::flush_partial(const std::function<void(std::string_view)>& on_line, size_t* lines) {
  // A file that ends without a newline (rotated or truncated mid-line): hand out what is
  // there rather than glue it to the next file's first line.
  if (partial_.empty()) return;
  on_line(partial_);
  partial_.clear();
  ++*lines;
  ++stats_.lines;
}

void LogFollower::check_rotation(const std::function<void(std::string_view)>& on_line, size_t* lines) {
  struct stat by_path {
  }, by_fd{};
  bool path_ok = ::stat(path_.c_str(), &by_path) == 0;
  if (::fstat(fd_, &by_fd) == 0 && uint64_t(by_fd.st_size) < offset_) {
    ++stats_.truncations;  // copytruncate: the same file starts again
    flush_partial(on_line, lines);
    offset_ = 0;
    return;
  }
  if (path_ok && (uint64_t(by_path.st_ino) != inode_ || uint64_t(by_path.st_dev) != device_)) {
    // Renamed away and a new file is in place; we have read the old one to its end.
    ++stats_.rotations;
    flush_partial(on_line, lines);
    if (old_fd_ >= 0) *lines += drain_old(on_line, true);  // a second rotation within the grace
    old_fd_ = fd_;                                         // keep the old file a little longer for late writers
    old_offset_ = offset_;
    old_until_ = std::chrono::steady_clock::now() + kRotationGrace;
    fd_ = -1;
    open_current(false);
  }
}

size_t LogFollower::poll(const std::function<void(std::string_view)>& on_line, size_t max_bytes) {
  size_t lines = 0;
  if (old_fd_ >= 0) lines += drain_old(on_line, std::chrono::steady_clock::now() >= old_until_);
  if (fd_ < 0 && !open_current(false)) return lines;
  bool eof = false;
  lines += read_some(on_line, max_bytes, &eof);
  if (eof) {
    check_rotation(on_line, &lines);
    if (offset_ == 0) lines += read_some(on_line, max_bytes, &eof);  // the new or truncated file
  }
  return lines;
}

uint64_t LogFollower::lag_bytes() const {
  if (fd_ < 0) return 0;
  struct stat st {};
  uint64_t lag = 0;
  if (::fstat(fd_, &st) == 0 && uint64_t(st.st_size) > offset_) lag = uint64_t(st.st_size) - offset_;
  struct stat by_path {};
  if (::stat(path_.c_str(), &by_path) == 0 && uint64_t(by_path.st_ino) != inode_) lag += uint64_t(by_path.st_size);
  if (old_fd_ >= 0 && ::fstat(old_fd_, &st) == 0 && uint64_t(st.st_size) > old_offset_)
    lag += uint64_t(st.st_size) - old_offset_;
  return lag;
}

}  // namespace sw::follow
