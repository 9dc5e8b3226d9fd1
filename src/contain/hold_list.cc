#include "contain/hold_list.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/atomic_file.h"
#include "base/fd_io.h"

namespace sw::contain {
namespace {

// lsearch processes backslash escapes inside quoted keys; control characters cannot occur in
// a key that came from one log line, but an admin's input might carry them.
std::string quote_key(std::string_view key) {
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  return out + "\"";
}

std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  return out;
}

bool fail(std::string* error, const std::string& what, const std::string& path) {
  if (error) *error = what + " " + path + ": " + std::strerror(errno);
  return false;
}

struct DirCloser {
  int fd;
  ~DirCloser() { ::close(fd); }
};

// The directory lists are written in, opened without following a link and only if no one but
// root (or the uid running this) can write in it: anyone else could swap a list, or plant a
// link where its temporary file is created. -1 with *error otherwise (errno ENOENT: it is
// missing, *error left for the caller).
int open_private_directory(const std::string& dir, std::string* error) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st {};
  if (fd < 0) {
    int saved = errno;
    if ((saved == ENOTDIR || saved == ELOOP) && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      if (error) *error = "refusing to write in " + dir + ": it is a symbolic link";
    } else if (saved != ENOENT) {
      if (error) *error = "cannot open " + dir + ": " + std::strerror(saved);
    }
    errno = saved;
    return -1;
  }
  std::string refusal;
  if (::fstat(fd, &st) != 0) refusal = std::string("cannot stat it: ") + std::strerror(errno);
  else if (st.st_uid != 0 && st.st_uid != ::geteuid()) refusal = "owned by uid " + std::to_string(st.st_uid);
  else if (st.st_mode & (S_IWGRP | S_IWOTH)) refusal = "writable by group or others (chmod go-w)";
  if (refusal.empty()) return fd;
  ::close(fd);
  if (error) *error = "refusing to write in " + dir + ": " + refusal;
  errno = EPERM;
  return -1;
}

}  // namespace

std::string render_hold_list(detect::ActorType type, const std::vector<HoldListEntry>& entries) {
  std::string out = "# spamwarden hold list: ";
  out += detect::actor_type_name(type);
  out += " (lsearch; written by spamwarden, replaced atomically - do not edit while watch runs)\n";
  for (const HoldListEntry& e : entries) out += quote_key(e.key) + ": " + one_line(e.note) + "\n";
  return out;
}

std::vector<HoldListEntry> parse_hold_list(std::string_view text, std::vector<std::string>* errors) {
  std::vector<HoldListEntry> entries;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos || line[i] == '#') continue;
    HoldListEntry e;
    if (line[i] == '"') {
      bool closed = false;
      for (++i; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) e.key += line[++i];
        else if (line[i] == '"') {
          closed = true;
          ++i;
          break;
        } else e.key += line[i];
      }
      if (!closed) {
        if (errors) errors->push_back("line " + std::to_string(line_no) + ": unterminated quoted key");
        continue;
      }
    } else {
      size_t end = line.find_first_of(": \t", i);
      e.key = std::string(line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
      i = end == std::string_view::npos ? line.size() : end;
    }
    size_t value = line.find_first_not_of(" \t:", i);
    if (value != std::string_view::npos) e.note = std::string(line.substr(value));
    if (e.key.empty()) {
      if (errors) errors->push_back("line " + std::to_string(line_no) + ": empty key");
      continue;
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

bool write_file_atomically(const std::string& path, std::string_view content, std::string* error,
                           Durability durability) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp_name = temporary_path(name), tmp = temporary_path(path);
  int dfd = open_private_directory(dir, error);
  if (dfd < 0) return errno == ENOENT ? fail(error, "cannot create", tmp) : false;
  DirCloser closer{dfd};
  // Created, never opened if it exists: a link planted under this name is not written through.
  // What exists under it is a dead writer's leftover or a plant; either way it is removed once.
  int fd = -1;
  for (int attempt = 0; attempt < 2 && fd < 0; ++attempt) {
    fd = ::openat(dfd, tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt > 0 || ::unlinkat(dfd, tmp_name.c_str(), 0) != 0)) break;
  }
  if (fd < 0) return fail(error, "cannot create", tmp);
  bool ok = write_all(fd, content) && (durability == Durability::visible_only || ::fsync(fd) == 0);
  int saved = errno;
  // Exim reads the lists after dropping privileges: they must be world-readable.
  ::fchmod(fd, 0644);
  ::close(fd);
  if (!ok) {
    ::unlinkat(dfd, tmp_name.c_str(), 0);
    errno = saved;
    return fail(error, "cannot write", tmp);
  }
  if (::renameat(dfd, tmp_name.c_str(), dfd, name.c_str()) != 0) {
    saved = errno;
    ::unlinkat(dfd, tmp_name.c_str(), 0);
    errno = saved;
    return fail(error, "cannot rename onto", path);
  }
  if (durability == Durability::fsync) ::fsync(dfd);  // the rename itself survives a crash
  return true;
}

bool is_private_directory(const std::string& dir, std::string* error) {
  int fd = open_private_directory(dir, error);
  if (fd < 0) {
    if (errno == ENOENT) fail(error, "cannot open", dir);
    return false;
  }
  ::close(fd);
  return true;
}

bool sync_files(const std::vector<std::string>& paths, const std::string& dir) {
  bool ok = true;
  for (const std::string& p : paths) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // replaced or removed meanwhile: its successor is synced by its writer
    ok &= ::fsync(fd) == 0;
    ::close(fd);
  }
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ok &= ::fsync(dfd) == 0;
    ::close(dfd);
  } else {
    ok = false;
  }
  return ok;
}

std::string hold_list_dir(const std::string& state_dir) { return state_dir + "/holds"; }

std::string hold_list_path(const std::string& state_dir, detect::ActorType type) {
  return hold_list_dir(state_dir) + "/" + detect::actor_type_name(type);
}

}  // namespace sw::contain
