// What `watch` needs of its state directory before it follows the log: the directory and its
// holds/ can be written (else every hold would be logged as placed and never reach Exim), and
// no other `watch` acts on them (else every hold would be alerted and frozen twice).
#pragma once
#include <memory>
#include <string>

#include "base/file_lock.h"

namespace sw::contain {

// Creates `dir` (and its parents, mode 0755) if missing and checks that a file can be created
// in it; false with *error naming the path and the system's reason.
bool ensure_writable_directory(const std::string& dir, std::string* error);

// An exclusive flock on <state>/watch.lock, held while the object lives (the kernel drops it
// when the process dies, kill -9 included). The file holds the owner's pid for the message
// a second `watch` prints.
class StateLock {
 public:
  // Checks the state directory and holds/ (ensure_writable_directory, and is_private_directory:
  // the lists would not be written in either otherwise) and takes the lock; nullptr with
  // *error when any of it fails.
  static std::unique_ptr<StateLock> acquire(const std::string& state_dir, std::string* error);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  explicit StateLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

std::string state_lock_path(const std::string& state_dir);

}  // namespace sw::contain
