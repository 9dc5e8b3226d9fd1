// File access below directories that root must not be steered out of: the spool (its
// subdirectories and files may be replaced by anyone who can write there) and quarantine
// batches. Paths are resolved relative to an open directory and never through a symbolic
// link, so a link planted in the path makes the call fail instead of reaching another file.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sw::queue {

// Owns a file descriptor; -1 when empty.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Opens `relative` ("input/X/name": no empty, "." or ".." component, no leading '/') beneath
// dir_fd, where no component may be a symbolic link: openat2 with RESOLVE_BENEATH and
// RESOLVE_NO_SYMLINKS, or a component walk with O_NOFOLLOW on kernels without openat2.
// -1 with errno set: ELOOP for a symbolic link on the way, EXDEV/EINVAL for a bad path.
int open_beneath(int dir_fd, std::string_view relative, int flags, mode_t mode = 0);

// Reads the whole of an open file, which must be a regular file (else errno EINVAL), and
// fills *st from it.
bool read_regular_file(int fd, std::string& out, struct stat* st);

// Writes `name` in dir_fd via a temporary name and renameat, so readers see the old file or
// the whole new one; the temporary is created O_EXCL|O_NOFOLLOW. uid < 0 keeps the owner.
// `shown` is the path used in error messages.
bool write_file_at(int dir_fd, const std::string& name, const std::string& shown, const std::string& bytes,
                   uint32_t mode, int uid, int gid, std::string* error);

// An absolute path without symbolic links, "." or ".." (realpath); empty when it does not exist.
std::string canonical_path(const std::string& path);

// Why a failed open_beneath refused `shown`, from errno.
std::string open_failure(const std::string& shown);

}  // namespace sw::queue
