#include "contain/script_disable.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fd_io.h"
#include "base/json_text.h"
#include "base/text.h"
#include "contain/hold_list.h"
#include "queue/audit_log.h"
#include "queue/spool_files.h"
#include "spool/spool_header.h"
#include "spool/spool_location.h"
#include "spool/spool_reader.h"

namespace sw::contain {

namespace {

using queue::Fd;

constexpr std::string_view kSuffix = ".spamwarden-held";
// The file is opened to be checked and chmod'ed through its descriptor: never through a link,
// without waiting on a FIFO and without making a terminal ours.
constexpr int kOpenScript = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;

std::string errno_text() { return std::strerror(errno); }

std::string read_all(const std::string& path) {
  std::string text, unused;
  read_file_whole(path, text, &unused);
  return text;
}

// Paths are bytes, not always UTF-8 (a Latin-1 site directory): kept exactly, for the restore.
nlohmann::json to_json(const DisabledScript& d) {
  return {{"actor", json_bytes(d.actor)},
          {"original", json_bytes(d.original)},
          {"renamed", json_bytes(d.renamed)},
          {"mode", d.mode},
          {"time", d.time},
          {"uid", d.uid},
          {"dev", d.dev},
          {"ino", d.ino}};
}

std::optional<DisabledScript> from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  auto bytes = [&](const char* key) { return j.contains(key) ? bytes_from_json(j[key]) : std::string(); };
  try {
    DisabledScript d{bytes("actor"),
                     bytes("original"),
                     bytes("renamed"),
                     j.value("mode", 0u),
                     j.value("time", int64_t(0)),
                     j.value("uid", int64_t(-1)),
                     j.value("dev", uint64_t(0)),
                     j.value("ino", uint64_t(0))};
    if (d.original.empty() || d.renamed.empty()) return std::nullopt;
    return d;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged record is skipped, as an unparsable line is
  }
}

std::vector<DisabledScript> read_records(const std::string& state_dir) {
  std::vector<DisabledScript> out;
  std::string text = read_all(disabled_scripts_path(state_dir));
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    std::string_view line = std::string_view(text).substr(start, nl == std::string::npos ? nl : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    if (auto d = from_json(nlohmann::json::parse(line, nullptr, false))) out.push_back(std::move(*d));
  }
  return out;
}

bool append_record(const std::string& state_dir, const DisabledScript& d, std::string* problem) {
  std::string line = json_text(to_json(d)) + "\n";
  int fd =
      ::open(disabled_scripts_path(state_dir).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
  if (!ok) *problem = "cannot record " + d.renamed + ": " + errno_text();
  if (fd >= 0) ::close(fd);
  return ok;
}

// The held directory, reached from "/" without following a link on the way: the account can
// replace any directory it owns on that path by a link to someone else's.
Fd open_script_dir(const std::string& dir, std::string* problem) {
  Fd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Fd fd;
  if (dir.size() > 1 && dir.front() == '/' && root.valid())
    fd = Fd(queue::open_beneath(root.get(), std::string_view(dir).substr(1), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  else errno = root.valid() ? EINVAL : errno;
  if (!fd.valid()) *problem = queue::open_failure(dir);
  return fd;
}

// The plain file name `path` has directly in `dir`, or "" when it lies elsewhere.
std::string name_in(const std::string& dir, const std::string& path) {
  if (!path.starts_with(dir + "/")) return "";
  std::string name = path.substr(dir.size() + 1);
  return name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ? "" : name;
}

// True when `name` in dir_fd is (still) the file `st` describes.
bool names_file(int dir_fd, const std::string& name, const struct stat& st) {
  struct stat now {};
  return ::fstatat(dir_fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st.st_dev &&
         now.st_ino == st.st_ino;
}

// Why the open file `st` must not be disabled for a submission by `owner_uid` ("" when it may).
std::string disable_refusal(const struct stat& st, int64_t owner_uid) {
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (owner_uid <= 0) return fmt::format("the mail was submitted by uid {}", owner_uid);
  if (st.st_uid == 0) return "owned by root";
  if (int64_t(st.st_uid) != owner_uid)
    return fmt::format("owned by uid {}, the mail was submitted by uid {}", st.st_uid, owner_uid);
  if (st.st_mode & (S_ISUID | S_ISGID)) return "setuid or setgid";
  if (st.st_nlink != 1) return fmt::format("{} hard links", st.st_nlink);
  return "";
}

// Why the open file `st` is not the one `d` disabled ("" when it is and may get its mode back).
std::string restore_refusal(const struct stat& st, const DisabledScript& d) {
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (st.st_uid == 0) return "owned by root";
  if (d.uid >= 0 && int64_t(st.st_uid) != d.uid) return fmt::format("owned by uid {}, not {}", st.st_uid, d.uid);
  if (st.st_mode & (S_ISUID | S_ISGID)) return "setuid or setgid";
  if (st.st_nlink != 1) return fmt::format("{} hard links", st.st_nlink);
  if (d.ino != 0 && (st.st_ino != d.ino || st.st_dev != d.dev)) return "not the file that was disabled (another inode)";
  if (d.ino == 0 && (st.st_mode & 07777) != 0) return fmt::format("mode {:04o}, not 000", st.st_mode & 07777);
  return "";
}

}  // namespace

std::string disabled_scripts_path(const std::string& state_dir) { return state_dir + "/disabled-scripts.jsonl"; }

std::optional<ScriptRef> parse_originating_script(std::string_view value) {
  value = trim(value);
  size_t colon = value.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 10) return std::nullopt;
  ScriptRef ref{0, std::string(value.substr(colon + 1))};
  for (char c : value.substr(0, colon)) {
    if (c < '0' || c > '9') return std::nullopt;
    ref.uid = ref.uid * 10 + (c - '0');
  }
  const std::string& n = ref.name;
  if (n.empty() || n.size() > 255 || n.front() == '.' || n.find('/') != std::string::npos) return std::nullopt;
  for (unsigned char c : n)
    if (c < 0x20 || c == 0x7f) return std::nullopt;
  return ref;
}

std::optional<DisabledScript> disable_script(const std::string& state_dir, const std::string& dir, const ScriptRef& ref,
                                             int64_t now, const std::string& operator_name, std::string* problem) {
  problem->clear();
  const std::string held_name = ref.name + std::string(kSuffix);
  DisabledScript d{
      .actor = "script:" + dir, .original = dir + "/" + ref.name, .renamed = dir + "/" + held_name, .time = now};
  Fd dir_fd = open_script_dir(dir, problem);
  if (!dir_fd.valid()) return std::nullopt;
  Fd file(::openat(dir_fd.get(), ref.name.c_str(), kOpenScript));
  struct stat st {};
  if (!file.valid()) {
    int error = errno;
    if (error == ELOOP) *problem = d.original + ": not a regular file (a symbolic link), left alone";
    else if (error != ENOENT || ::fstatat(dir_fd.get(), held_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      *problem = d.original + ": " + std::strerror(error);
    return std::nullopt;  // already disabled (no problem), or not there
  }
  if (::fstat(file.get(), &st) != 0) *problem = d.original + ": " + errno_text();
  else if (std::string why = disable_refusal(st, ref.uid); !why.empty())
    *problem = d.original + ": " + why + ", left alone";
  if (!problem->empty()) return std::nullopt;
  d.mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.dev = st.st_dev;
  d.ino = st.st_ino;
  if (::renameat2(dir_fd.get(), ref.name.c_str(), dir_fd.get(), held_name.c_str(), RENAME_NOREPLACE) != 0) {
    *problem = "cannot rename " + d.original + ": " + errno_text();
    return std::nullopt;
  }
  auto undo_rename = [&] {
    ::renameat2(dir_fd.get(), held_name.c_str(), dir_fd.get(), ref.name.c_str(), RENAME_NOREPLACE);
  };
  // The name can be swapped between the open and the rename: then it was not our file that moved.
  if (!names_file(dir_fd.get(), held_name, st)) {
    undo_rename();
    *problem = d.original + ": replaced while being disabled, left alone";
    return std::nullopt;
  }
  // The checked file itself, whatever name it has by now.
  if (::fchmod(file.get(), 0) != 0) {
    *problem = "cannot chmod 000 " + d.renamed + ": " + errno_text();
    undo_rename();
    return std::nullopt;
  }
  if (!append_record(state_dir, d, problem)) {  // not restorable by release: undo
    ::fchmod(file.get(), d.mode);
    undo_rename();
    return std::nullopt;
  }
  queue::append_audit_record(state_dir,
                             {{"action", "disable_script"},
                              {"actor", d.actor},
                              {"file", d.original},
                              {"renamed_to", d.renamed},
                              {"mode", fmt::format("{:04o}", d.mode)}},
                             operator_name, nullptr);
  return d;
}

namespace {

// The scripts named by the -H files of `login`'s messages, each with the uid Exim recorded as
// the submitter (the X-PHP-Originating-Script uid is the script's word, not Exim's). The -H
// files are read below the spool without following links and never block on a FIFO.
std::set<std::pair<int64_t, std::string>> scripts_of(const std::string& spool_dir, const std::string& login,
                                                     size_t max_messages, std::vector<std::string>* problems) {
  std::set<std::pair<int64_t, std::string>> scripts;
  Fd spool_fd(::open(spool_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!spool_fd.valid()) {
    problems->push_back("cannot open the spool " + spool_dir + ": " + errno_text());
    return scripts;
  }
  std::map<std::string, Fd> input_dirs;
  spool::SpoolHeader header;
  std::string buffer;
  size_t read = 0;
  for (const spool::MessageLocation& m : spool::list_messages(spool_dir)) {
    if (read++ >= max_messages) break;
    auto [dir, fresh] = input_dirs.try_emplace(m.input_dir);
    if (fresh && m.input_dir.starts_with(spool_dir + "/"))
      dir->second = Fd(queue::open_beneath(spool_fd.get(), std::string_view(m.input_dir).substr(spool_dir.size() + 1),
                                           O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir->second.valid()) continue;
    if (spool::read_message_at(dir->second.get(), m, header, buffer, false).outcome != spool::ReadOutcome::ok ||
        header.login != login)
      continue;
    for (const spool::Header& h : header.headers)
      if (!h.deleted() && iequals(h.name(), "X-PHP-Originating-Script"))
        if (auto ref = parse_originating_script(h.value())) scripts.insert({header.uid, ref->name});
  }
  return scripts;
}

}  // namespace

ScriptDisableResult disable_held_scripts(const std::string& spool_dir, const std::string& state_dir,
                                         const std::string& login, const std::string& dir, int64_t now,
                                         const std::string& operator_name, size_t max_messages) {
  ScriptDisableResult r;
  std::string problem;
  for (const auto& [uid, name] : scripts_of(spool_dir, login, max_messages, &r.problems)) {
    if (auto d = disable_script(state_dir, dir, ScriptRef{uid, name}, now, operator_name, &problem))
      r.disabled.push_back(std::move(*d));
    else if (!problem.empty()) r.problems.push_back(problem);
  }
  return r;
}

namespace {

// Puts one disabled script back: the renamed file, opened without following a link, must be
// the file that was disabled; it gets its name back (never over another file) and then its
// mode, on the open file. "" on success, else why it stays disabled.
std::string restore_script(const std::string& dir, const DisabledScript& d) {
  const std::string original = name_in(dir, d.original), held = name_in(dir, d.renamed);
  if (original.empty() || held.empty()) return d.renamed + ": the record names a file outside " + dir;
  std::string problem;
  Fd dir_fd = open_script_dir(dir, &problem);
  if (!dir_fd.valid()) return "cannot restore " + d.original + ": " + problem;
  Fd file(::openat(dir_fd.get(), held.c_str(), kOpenScript));
  if (!file.valid())
    return "cannot restore " + d.original + " from " + d.renamed + ": " +
           (errno == ELOOP ? "a symbolic link, not followed" : errno_text());
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return "cannot restore " + d.original + ": " + errno_text();
  if (std::string why = restore_refusal(st, d); !why.empty())
    return "cannot restore " + d.original + ": " + d.renamed + " is " + why + "; left alone";
  if (::renameat2(dir_fd.get(), held.c_str(), dir_fd.get(), original.c_str(), RENAME_NOREPLACE) != 0)
    return "cannot restore " + d.original + " from " + d.renamed + ": " + errno_text();
  auto undo_rename = [&] { ::renameat2(dir_fd.get(), original.c_str(), dir_fd.get(), held.c_str(), RENAME_NOREPLACE); };
  if (!names_file(dir_fd.get(), original, st)) {
    undo_rename();
    return "cannot restore " + d.original + ": " + d.renamed + " was replaced meanwhile; left alone";
  }
  // Never setuid/setgid, whatever the record says.
  if (::fchmod(file.get(), d.mode & 01777) != 0) {
    problem = "cannot restore the mode of " + d.original + ": " + errno_text();
    undo_rename();
    return problem;
  }
  return "";
}

}  // namespace

size_t restore_scripts(const std::string& state_dir, const std::string& dir, const std::string& operator_name,
                       std::vector<std::string>* problems) {
  std::vector<DisabledScript> records = read_records(state_dir), keep;
  size_t restored = 0;
  std::string actor = "script:" + dir;
  for (const DisabledScript& d : records) {
    if (d.actor != actor) {
      keep.push_back(d);
      continue;
    }
    if (std::string problem = restore_script(dir, d); !problem.empty()) {
      problems->push_back(problem);
      keep.push_back(d);
      continue;
    }
    ++restored;
    queue::append_audit_record(state_dir,
                               {{"action", "restore_script"},
                                {"actor", d.actor},
                                {"file", d.original},
                                {"mode", fmt::format("{:04o}", d.mode)}},
                               operator_name, nullptr);
  }
  if (restored) {
    std::string text, error;
    for (const DisabledScript& d : keep) text += json_text(to_json(d)) + "\n";
    if (!write_file_atomically(disabled_scripts_path(state_dir), text, &error))
      problems->push_back("restored, but cannot update " + disabled_scripts_path(state_dir) + ": " + error);
  }
  return restored;
}

}  // namespace sw::contain
