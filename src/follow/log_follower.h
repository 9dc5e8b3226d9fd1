// Follows a growing log file like `tail -F`, but never drops a line: reads whatever is there
// (at full speed when behind), hands out complete lines, and survives both rotation styles:
//  - rename (logrotate default, exicyclog): the old file is drained to its end before the new
//    file is opened at offset 0, so lines Exim wrote just before it noticed are kept; the old
//    file stays open for kRotationGrace more and lines that Exim processes still holding it
//    append late are handed out too;
//  - copytruncate: the file shrinks below our offset; we restart at 0.
// A missing or unreadable file is reported through last_error() and retried on every poll.
// wait() sleeps until the log changes: inotify on its directory (a write, a rotation, a new
// file) wakes it at once; where inotify is unavailable it is a plain timed sleep (polling).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::follow {

struct FollowerStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t rotations = 0;    // renamed away and reopened
  uint64_t truncations = 0;  // copytruncate
  uint64_t open_failures = 0;
};

class LogFollower {
 public:
  static constexpr std::chrono::milliseconds kRotationGrace{3000};
  // from_start: read the existing content first; otherwise start at the current end.
  LogFollower(std::string path, bool from_start);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Reads up to max_bytes of new data and calls on_line for each complete line (without the
  // newline). Returns the number of lines delivered; 0 means "nothing new right now".
  size_t poll(const std::function<void(std::string_view)>& on_line, size_t max_bytes = 64u << 20);

  // Returns when the log (or a file whose name starts with the log's, e.g. the rotated
  // mainlog.1) may have changed, or after `timeout` at the latest; a signal ends it early too.
  void wait(std::chrono::milliseconds timeout);
  bool uses_inotify() const { return inotify_fd_ >= 0; }

  // Bytes in the file(s) not yet handed out (what we are behind).
  uint64_t lag_bytes() const;
  const FollowerStats& stats() const { return stats_; }
  const std::string& last_error() const { return error_; }  // empty when healthy
  const std::string& path() const { return path_; }

 private:
  bool open_current(bool at_end);
  void check_rotation(const std::function<void(std::string_view)>& on_line, size_t* lines);
  size_t read_some(const std::function<void(std::string_view)>& on_line, size_t max_bytes, bool* eof);
  void flush_partial(const std::function<void(std::string_view)>& on_line, size_t* lines);
  void close_fd();
  size_t drain_old(const std::function<void(std::string_view)>& on_line, bool final);

  std::string path_;
  int fd_ = -1;
  uint64_t inode_ = 0, device_ = 0;
  uint64_t offset_ = 0;
  std::vector<char> buffer_;
  std::string partial_;  // bytes after the last newline
  int old_fd_ = -1;      // the renamed-away file during the grace period
  uint64_t old_offset_ = 0;
  std::string old_partial_;
  std::chrono::steady_clock::time_point old_until_{};
  FollowerStats stats_;
  std::string error_;
  int inotify_fd_ = -1;
  bool inotify_tried_ = false;
};

}  // namespace sw::follow
