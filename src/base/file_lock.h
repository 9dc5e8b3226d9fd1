// An exclusive flock on a file, held while the object lives; the kernel drops it when the
// process dies, kill -9 included, so a lock is never left behind. The holder writes its pid
// (and a note: where it can be reached) into the file for whoever finds it taken.
#pragma once
#include <memory>
#include <optional>
#include <string>

namespace sw {

class FileLock {
 public:
  // What a holder wrote: its pid, and its note ("" for either when it has not written yet).
  struct Holder {
    std::string pid, note;
    std::string who() const { return pid.empty() ? "another process" : "pid " + pid; }
  };

  // Takes the lock without waiting. nullptr with *error when it cannot: *holder is then set when
  // another process holds it, and left empty when the file could not be used.
  static std::unique_ptr<FileLock> try_take(const std::string& path, const std::string& note,
                                            std::optional<Holder>* holder, std::string* error);
  // The lock file opened (created if missing) but not taken: try_lock() takes it later, with the
  // access this process had when it opened it (serve drops its privileges after starting, and
  // must still write its note into a file root made).
  static std::unique_ptr<FileLock> open(const std::string& path, std::string* error);
  // Takes the lock without waiting (true at once when held already), writing this pid and
  // `note`; false as try_take() says.
  bool try_lock(const std::string& note, std::optional<Holder>* holder, std::string* error);
  bool held() const { return held_; }
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  static Holder read_holder(const std::string& path);
  // The holder when someone holds the lock now, else nullopt; takes nothing and writes nothing
  // (a shared lock tried for an instant).
  static std::optional<Holder> holder_if_held(const std::string& path);

 private:
  FileLock(int fd, std::string path, bool writable) : fd_(fd), path_(std::move(path)), writable_(writable) {}
  int fd_;
  std::string path_;
  bool writable_;
  bool held_ = false;
};

}  // namespace sw
