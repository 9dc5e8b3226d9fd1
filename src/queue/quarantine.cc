#include "queue/quarantine.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "base/json_text.h"
#include "base/sha256.h"
#include "eximlog/message_id.h"

namespace sw::queue {
namespace {

std::string utc_timestamp(int64_t now) {
  time_t t = time_t(now);
  struct tm tm;
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool read_file(const std::string& path, std::string& out, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fstat(fd, st) == 0;
  out.clear();
  char buffer[65536];
  for (ssize_t n; ok && (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    out.append(buffer, size_t(n));
  }
  ::close(fd);
  return ok;
}

// Writes via a temporary name and rename, so readers see the old file or the whole new one.
bool write_file_atomically(const std::string& path, const std::string& bytes, uint32_t mode, int uid, int gid,
                           std::string* error) {
  std::string temporary = path.substr(0, path.rfind('/') + 1) + ".sw-tmp." + std::to_string(::getpid()) + "." +
                          path.substr(path.rfind('/') + 1);
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
  if (fd < 0) {
    *error = "cannot create " + temporary + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  bool ok = done == bytes.size() && ::fchmod(fd, mode & 07777) == 0 && (uid < 0 || ::fchown(fd, uid, gid) == 0) &&
            ::fsync(fd) == 0;
  if (!ok) *error = "cannot write " + temporary + ": " + std::strerror(errno);
  ::close(fd);
  if (ok && ::rename(temporary.c_str(), path.c_str()) != 0) {
    *error = "cannot rename into " + path + ": " + std::strerror(errno);
    ok = false;
  }
  if (!ok) ::unlink(temporary.c_str());
  return ok;
}

bool make_directories(const std::string& path, mode_t mode) {
  for (size_t slash = 1; slash != std::string::npos;) {
    slash = path.find('/', slash + 1);
    std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) return false;
  }
  return true;
}

// Copies one spool file into the batch; false only for a real failure (absent files are skipped).
bool copy_into_batch(const std::string& source, const std::string& role, const std::string& id,
                     const std::string& batch_dir, QuarantinedMessage& message, std::string* error) {
  std::string bytes;
  struct stat st;
  if (!read_file(source, bytes, &st)) {
    if (errno == ENOENT) return role != "H" && role != "D" ? true : (*error = source + " vanished", false);
    *error = "cannot read " + source + ": " + std::strerror(errno);
    return false;
  }
  QuarantinedFile file{role, source, id + "." + role, uint64_t(bytes.size()), uint32_t(st.st_mode & 07777),
                       uint32_t(st.st_uid), uint32_t(st.st_gid), sha256_hex(bytes)};
  if (!write_file_atomically(batch_dir + "/" + file.stored_name, bytes, 0600, -1, -1, error)) return false;
  message.files.push_back(std::move(file));
  return true;
}

bool copy_message(const spool::MessageLocation& location, const std::string& batch_dir, QuarantinedMessage& message,
                  std::string* error) {
  message.files.clear();
  return copy_into_batch(location.data_path(), "D", location.id, batch_dir, message, error) &&
         copy_into_batch(location.journal_path(), "J", location.id, batch_dir, message, error) &&
         copy_into_batch(location.msglog_path(), "msglog", location.id, batch_dir, message, error) &&
         copy_into_batch(location.header_path(), "H", location.id, batch_dir, message, error);
}

bool write_manifest(const std::string& batch_dir, const Manifest& manifest, std::string* error) {
  return write_file_atomically(batch_dir + "/manifest.json", json_text(manifest_to_json(manifest), 2) + "\n", 0600,
                               -1, -1, error);
}

bool spool_has_message(const QuarantinedMessage& message) {
  for (const QuarantinedFile& file : message.files) {
    struct stat st;
    if (file.role == "H" && ::stat(file.original_path.c_str(), &st) == 0) return true;
  }
  return false;
}

// A manifest is data on disk, and a batch may be named by any path: before restore writes a
// file as root, it checks that the file is one of this message's spool files, in the
// manifest's spool, with a spool file's mode and the spool's owner. Otherwise a crafted
// manifest could write any file anywhere (a setuid binary, a cron job).
bool is_spool_file_of(const Manifest& m, const QuarantinedMessage& message, const QuarantinedFile& file,
                      std::string* why) {
  const std::string& id = message.id;
  if (!eximlog::is_message_id(id)) return *why = "'" + id + "' is not a message id", false;
  bool input = file.role == "H" || file.role == "D" || file.role == "J";
  if (!input && file.role != "msglog") return *why = "unknown file role '" + file.role + "'", false;
  if (file.stored_name != id + "." + file.role) return *why = "unexpected stored name " + file.stored_name, false;
  if (m.spool_dir.empty() || m.spool_dir[0] != '/' || m.spool_dir.find("/..") != std::string::npos)
    return *why = "spool directory '" + m.spool_dir + "' is not a plain absolute path", false;
  std::string name = input ? id + "-" + file.role : id;
  // input or msglog, or Finput/Fmsglog (move_frozen_messages); split by id[5] or not
  auto bases = input ? std::array{"/input", "/Finput"} : std::array{"/msglog", "/Fmsglog"};
  bool in_spool = std::any_of(bases.begin(), bases.end(), [&](const char* base) {
    std::string dir = m.spool_dir + base;
    return file.original_path == dir + "/" + name || file.original_path == dir + "/" + id[5] + "/" + name;
  });
  if (!in_spool) return *why = file.original_path + " is not where this message's spool file lives", false;
  if (file.mode & 07111) return *why = fmt::format("mode {:o} is not a spool file's", file.mode), false;
  struct stat st;
  if (::stat(m.spool_dir.c_str(), &st) != 0) return *why = "no spool directory " + m.spool_dir, false;
  if (file.uid != st.st_uid || file.gid != st.st_gid)
    return *why = fmt::format("owner {}:{} is not the spool's ({}:{})", file.uid, file.gid, st.st_uid, st.st_gid), false;
  return true;
}

// Puts one message back: verifies every stored file first, then writes -H last.
bool restore_message(const std::string& batch_dir, const QuarantinedMessage& message, std::string* problem) {
  std::vector<std::pair<const QuarantinedFile*, std::string>> contents;
  for (const QuarantinedFile& file : message.files) {
    std::string bytes;
    struct stat st;
    if (!read_file(batch_dir + "/" + file.stored_name, bytes, &st)) {
      *problem = "cannot read quarantined " + file.stored_name;
      return false;
    }
    if (sha256_hex(bytes) != file.sha256) {
      *problem = file.stored_name + " does not match its sha256 in the manifest";
      return false;
    }
    contents.emplace_back(&file, std::move(bytes));
  }
  std::stable_partition(contents.begin(), contents.end(), [](const auto& c) { return c.first->role != "H"; });
  for (const auto& [file, bytes] : contents) {
    std::string dir = file->original_path.substr(0, file->original_path.rfind('/'));
    struct stat dir_stat;
    if (::stat(dir.c_str(), &dir_stat) != 0) {
      // A split subdirectory Exim removed meanwhile: recreate it owned like the message files.
      if (!make_directories(dir, 0750) || ::chown(dir.c_str(), file->uid, file->gid) != 0) {
        *problem = "cannot create " + dir + ": " + std::strerror(errno);
        return false;
      }
    }
    if (!write_file_atomically(file->original_path, bytes, file->mode, int(file->uid), int(file->gid), problem))
      return false;
  }
  return true;
}

}  // namespace

std::string new_batch_name(int64_t now, long pid) {
  time_t t = time_t(now);
  struct tm tm;
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &tm);
  return std::string(text) + "-" + std::to_string(pid);
}

std::string batch_directory(const std::string& state_dir, const std::string& batch) {
  if (batch.find('/') != std::string::npos) return batch;
  return state_dir + "/quarantine/" + batch;
}

// Paths, the selection (an admin's pattern) and exim's notes are bytes, not always UTF-8:
// json_bytes keeps them exactly, so a restore finds the very paths it saved.
nlohmann::json manifest_to_json(const Manifest& m) {
  nlohmann::json messages = nlohmann::json::array();
  for (const QuarantinedMessage& message : m.messages) {
    nlohmann::json files = nlohmann::json::array();
    for (const QuarantinedFile& f : message.files)
      files.push_back({{"role", f.role}, {"original_path", json_bytes(f.original_path)},
                       {"stored_name", json_bytes(f.stored_name)}, {"size", f.size}, {"mode", f.mode}, {"uid", f.uid},
                       {"gid", f.gid}, {"sha256", f.sha256}});
    messages.push_back({{"id", json_bytes(message.id)}, {"removed", message.removed}, {"restored", message.restored},
                        {"note", json_bytes(message.note)}, {"files", files}});
  }
  return {{"format", "spamwarden-quarantine-1"}, {"batch", m.batch}, {"created_at", m.created_at},
          {"operator", json_bytes(m.operator_name)}, {"spool_dir", json_bytes(m.spool_dir)},
          {"selection", json_bytes(m.selection)}, {"messages", messages}};
}

bool manifest_from_json(const nlohmann::json& j, Manifest& m, std::string* error) {
  try {
    m.batch = j.at("batch"), m.created_at = j.at("created_at"), m.operator_name = bytes_from_json(j.at("operator"));
    m.spool_dir = bytes_from_json(j.at("spool_dir")), m.selection = bytes_from_json(j.at("selection"));
    m.messages.clear();
    for (const auto& jm : j.at("messages")) {
      QuarantinedMessage message{bytes_from_json(jm.at("id")), jm.at("removed"), jm.value("restored", false),
                                 jm.contains("note") ? bytes_from_json(jm["note"]) : std::string(), {}};
      for (const auto& jf : jm.at("files"))
        message.files.push_back({jf.at("role"), bytes_from_json(jf.at("original_path")),
                                 bytes_from_json(jf.at("stored_name")), jf.at("size"), jf.at("mode"), jf.at("uid"),
                                 jf.at("gid"), jf.at("sha256")});
      m.messages.push_back(std::move(message));
    }
    return true;
  } catch (const nlohmann::json::exception& e) {
    *error = std::string("bad manifest: ") + e.what();
    return false;
  }
}

RemoveResult quarantine_and_remove(const std::vector<spool::MessageLocation>& messages, const std::string& state_dir,
                                   const std::string& spool_dir, const std::string& selection,
                                   const std::string& operator_name, int64_t now, EximRunner& exim) {
  RemoveResult result;
  result.manifest = {new_batch_name(now, ::getpid()), utc_timestamp(now), operator_name, spool_dir, selection, {}};
  result.batch_dir = batch_directory(state_dir, result.manifest.batch);
  if (!make_directories(result.batch_dir, 0700)) {
    result.error = "cannot create " + result.batch_dir + ": " + std::strerror(errno);
    return result;
  }
  std::vector<std::string> copied_ids;
  for (const spool::MessageLocation& location : messages) {
    QuarantinedMessage message{location.id, false, false, "", {}};
    std::string problem;
    if (copy_message(location, result.batch_dir, message, &problem)) {
      copied_ids.push_back(location.id);
    } else {
      message.note = "not removed: " + problem;  // never delete what we could not keep
      ++result.failed;
    }
    result.manifest.messages.push_back(std::move(message));
  }
  // The manifest is on disk before anything is deleted: a crash here loses nothing.
  if (!write_manifest(result.batch_dir, result.manifest, &result.error)) return result;
  std::vector<ActionOutcome> outcomes = run_exim_action(exim, EximAction::remove, copied_ids);
  for (QuarantinedMessage& message : result.manifest.messages) {
    for (const ActionOutcome& outcome : outcomes) {
      if (outcome.id != message.id) continue;
      message.removed = outcome.ok;
      message.note = outcome.detail;
      outcome.ok ? ++result.removed : ++result.failed;
    }
  }
  write_manifest(result.batch_dir, result.manifest, &result.error);
  return result;
}

RestoreResult restore_batch(const std::string& state_dir, const std::string& batch) {
  RestoreResult result;
  std::string batch_dir = batch_directory(state_dir, batch);
  std::ifstream in(batch_dir + "/manifest.json");
  nlohmann::json json = nlohmann::json::parse(in, nullptr, false);
  Manifest manifest;
  if (!in || json.is_discarded()) {
    result.error = "cannot read " + batch_dir + "/manifest.json";
    return result;
  }
  if (!manifest_from_json(json, manifest, &result.error)) return result;
  for (QuarantinedMessage& message : manifest.messages) {
    std::string problem;
    if (!message.removed || message.restored) {
      ++result.skipped;  // still in the queue (removal failed) or already put back
      continue;
    }
    if (!std::all_of(message.files.begin(), message.files.end(), [&](const QuarantinedFile& file) {
          return is_spool_file_of(manifest, message, file, &problem);
        })) {
      result.problems.push_back(message.id + ": not restored: " + problem);
      ++result.skipped;
      continue;
    }
    if (spool_has_message(message)) {
      result.problems.push_back(message.id + ": already in the queue, not overwritten");
      ++result.skipped;
      continue;
    }
    if (!restore_message(batch_dir, message, &problem)) {
      result.problems.push_back(message.id + ": " + problem);
      continue;
    }
    message.restored = true;
    ++result.restored;
  }
  write_manifest(batch_dir, manifest, &result.error);
  return result;
}

}  // namespace sw::queue
