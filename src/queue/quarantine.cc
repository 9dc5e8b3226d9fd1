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
#include <limits>
#include <optional>
#include <stdexcept>

#include "base/json_text.h"
#include "base/sha256.h"
#include "eximlog/message_id.h"
#include "queue/spool_files.h"
#include "spool/spool_location.h"

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

bool make_directories(const std::string& path, mode_t mode) {
  for (size_t slash = 1; slash != std::string::npos;) {
    slash = path.find('/', slash + 1);
    std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) return false;
  }
  return true;
}

// "input/X" for <spool>/input/X: where a message's directory lies inside its spool.
std::optional<std::string> below_spool(const std::string& spool_dir, const std::string& dir) {
  if (!dir.starts_with(spool_dir + "/")) return std::nullopt;
  return dir.substr(spool_dir.size() + 1);
}

// Where one message's files are read from when quarantining it.
struct SpoolSource {
  int spool_fd;            // the spool, opened once
  std::string spool_path;  // its canonical path, recorded in the manifest
};

// Why a message's -H or -D file is absent: gone with the message (delivered or removed since
// it was selected), or a -D missing beside a queued -H.
std::string absence(const SpoolSource& spool, const std::string& relative) {
  if (!relative.ends_with("-D")) return " vanished (delivered or removed since it was selected)";
  Fd header(
      open_beneath(spool.spool_fd, relative.substr(0, relative.size() - 1) + "H", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  return header.valid() || errno != ENOENT ? " is missing" : " vanished (delivered or removed since it was selected)";
}

// Copies one spool file into the batch; false only for a real failure (absent files are
// skipped). The file is opened beneath the spool without following any symbolic link and
// must be a regular file: a link planted in the spool would otherwise make root copy the
// target's bytes into the quarantine, and a restore would write them back as a spool file.
bool copy_into_batch(const SpoolSource& spool, const std::string& relative, const std::string& role,
                     const std::string& id, int batch_fd, QuarantinedMessage& message, std::string* error) {
  const std::string source = spool.spool_path + "/" + relative;
  Fd fd(open_beneath(spool.spool_fd, relative, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return role != "H" && role != "D" ? true : (*error = source + absence(spool, relative), false);
    *error = open_failure(source);
    return false;
  }
  std::string bytes;
  struct stat st;
  if (!read_regular_file(fd.get(), bytes, &st)) {
    *error =
        errno == EINVAL ? source + " is not a regular file" : "cannot read " + source + ": " + std::strerror(errno);
    return false;
  }
  QuarantinedFile file{role,
                       source,
                       id + "." + role,
                       uint64_t(bytes.size()),
                       uint32_t(st.st_mode & 07777),
                       uint32_t(st.st_uid),
                       uint32_t(st.st_gid),
                       sha256_hex(bytes)};
  if (!write_file_at(batch_fd, file.stored_name, file.stored_name, bytes, 0600, -1, -1, error)) return false;
  message.files.push_back(std::move(file));
  return true;
}

bool copy_message(const SpoolSource& spool, const std::string& spool_dir, const spool::MessageLocation& location,
                  int batch_fd, QuarantinedMessage& message, std::string* error) {
  message.files.clear();
  auto input = below_spool(spool_dir, location.input_dir), msglog = below_spool(spool_dir, location.msglog_dir);
  if (!input || !msglog) return *error = location.input_dir + " is not inside " + spool_dir, false;
  const std::string& id = location.id;
  return copy_into_batch(spool, *input + "/" + id + "-D", "D", id, batch_fd, message, error) &&
         copy_into_batch(spool, *input + "/" + id + "-J", "J", id, batch_fd, message, error) &&
         copy_into_batch(spool, *msglog + "/" + id, "msglog", id, batch_fd, message, error) &&
         copy_into_batch(spool, *input + "/" + id + "-H", "H", id, batch_fd, message, error);
}

bool write_manifest(int batch_fd, const std::string& batch_dir, const Manifest& manifest, std::string* error) {
  return write_file_at(batch_fd, "manifest.json", batch_dir + "/manifest.json",
                       json_text(manifest_to_json(manifest), 2) + "\n", 0600, -1, -1, error);
}

// A batch may be named by any path, and restore writes as root what its manifest says: the
// batch directory and the manifest must be root's (the running user's) alone.
bool is_trusted(int fd, const std::string& shown, bool directory, std::string* error) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return *error = "cannot stat " + shown + ": " + std::strerror(errno), false;
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return *error = "refused: " + shown + (directory ? " is not a directory" : " is not a regular file"), false;
  if (st.st_uid != ::geteuid())
    return *error = fmt::format("refused: {} is owned by uid {}, not by uid {}", shown, st.st_uid, ::geteuid()), false;
  if (st.st_mode & 022)
    return *error = fmt::format("refused: {} is writable by group or others (mode {:o})", shown, st.st_mode & 07777),
           false;
  return true;
}

// The batch's manifest, read only when the batch directory and the manifest are trusted.
std::optional<Manifest> read_trusted_manifest(int batch_fd, const std::string& batch_dir, std::string* error) {
  if (!is_trusted(batch_fd, batch_dir, true, error)) return std::nullopt;
  const std::string shown = batch_dir + "/manifest.json";
  Fd fd(::openat(batch_fd, "manifest.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return *error = open_failure(shown), std::nullopt;
  if (!is_trusted(fd.get(), shown, false, error)) return std::nullopt;
  std::string text;
  struct stat st;
  if (!read_regular_file(fd.get(), text, &st)) return *error = "cannot read " + shown, std::nullopt;
  Manifest manifest;
  if (!manifest_from_text(text, manifest, error)) return *error = shown + ": " + *error, std::nullopt;
  return manifest;
}

// A manifest is data on disk: before restore writes a file as root, it checks that the file
// is one of this message's spool files, in the manifest's spool, with a spool file's mode and
// the spool's owner. Sets *relative to its path inside the spool.
bool is_spool_file_of(const Manifest& m, const QuarantinedMessage& message, const QuarantinedFile& file,
                      const struct stat& spool, std::string* relative, std::string* why) {
  const std::string& id = message.id;
  if (!eximlog::is_message_id(id)) return *why = "'" + id + "' is not a message id", false;
  bool input = file.role == "H" || file.role == "D" || file.role == "J";
  if (!input && file.role != "msglog") return *why = "unknown file role '" + file.role + "'", false;
  if (file.stored_name != id + "." + file.role) return *why = "unexpected stored name " + file.stored_name, false;
  std::string name = input ? id + "-" + file.role : id;
  // input or msglog, or Finput/Fmsglog (move_frozen_messages); split by id[5] or not
  auto bases = input ? std::array{"input", "Finput"} : std::array{"msglog", "Fmsglog"};
  relative->clear();
  for (const char* base : bases)
    for (const std::string& candidate : {std::string(base) + "/" + name, std::string(base) + "/" + id[5] + "/" + name})
      if (file.original_path == m.spool_dir + "/" + candidate) *relative = candidate;
  if (relative->empty()) return *why = file.original_path + " is not where this message's spool file lives", false;
  if (file.mode & 07111) return *why = fmt::format("mode {:o} is not a spool file's", file.mode), false;
  if (file.uid != spool.st_uid || file.gid != spool.st_gid)
    return *why = fmt::format("owner {}:{} is not the spool's ({}:{})", file.uid, file.gid, spool.st_uid, spool.st_gid),
           false;
  return true;
}

// The directory `relative` of the spool ("input" or "input/X", checked by is_spool_file_of),
// opened without following links; a missing one (Exim removes empty split subdirectories) is
// created owned like the message files. Nothing outside the spool's own layout is created.
Fd open_spool_directory(int spool_fd, const std::string& spool_path, const std::string& relative,
                        const QuarantinedFile& file, std::string* problem) {
  Fd dir;
  for (size_t slash = 0; slash != std::string::npos;) {
    slash = relative.find('/', slash + 1);
    std::string prefix = relative.substr(0, slash);
    dir = Fd(open_beneath(spool_fd, prefix, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() && errno == ENOENT) {
      size_t parent_end = prefix.rfind('/');
      Fd parent(parent_end == std::string::npos
                    ? ::fcntl(spool_fd, F_DUPFD_CLOEXEC, 0)
                    : open_beneath(spool_fd, prefix.substr(0, parent_end), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      std::string leaf = prefix.substr(parent_end + 1);
      if (parent.valid() && ::mkdirat(parent.get(), leaf.c_str(), 0750) == 0) {
        dir = Fd(::openat(parent.get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (dir.valid() && ::fchown(dir.get(), file.uid, file.gid) != 0) dir = Fd();
      }
    }
    if (!dir.valid()) {
      *problem = open_failure(spool_path + "/" + prefix);
      return dir;
    }
  }
  return dir;
}

// Puts one message back: verifies every stored file first, then writes -H last.
bool restore_message(int spool_fd, const std::string& spool_path, int batch_fd, const QuarantinedMessage& message,
                     const std::vector<std::string>& relatives, std::string* problem) {
  struct Content {
    const QuarantinedFile* file;
    std::string relative, bytes;
  };
  std::vector<Content> contents;
  for (size_t i = 0; i < message.files.size(); ++i) {
    const QuarantinedFile& file = message.files[i];
    Fd fd(::openat(batch_fd, file.stored_name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    std::string bytes;
    struct stat st;
    if (!fd.valid() || !read_regular_file(fd.get(), bytes, &st)) {
      *problem = "cannot read quarantined " + file.stored_name;
      return false;
    }
    if (sha256_hex(bytes) != file.sha256) {
      *problem = file.stored_name + " does not match its sha256 in the manifest";
      return false;
    }
    contents.push_back({&file, relatives[i], std::move(bytes)});
  }
  std::stable_partition(contents.begin(), contents.end(), [](const Content& c) { return c.file->role != "H"; });
  for (const Content& c : contents) {
    size_t slash = c.relative.rfind('/');
    Fd dir = open_spool_directory(spool_fd, spool_path, c.relative.substr(0, slash), *c.file, problem);
    if (!dir.valid()) return false;
    if (!write_file_at(dir.get(), c.relative.substr(slash + 1), spool_path + "/" + c.relative, c.bytes, c.file->mode,
                       int(c.file->uid), int(c.file->gid), problem))
      return false;
  }
  return true;
}

enum class Queued { yes, no, unknown };

// Whether the message has a -H file in the spool (input/ or Finput/, split or not). Only a
// plain "no such file" means no: a spool that cannot be looked into is no licence to write.
Queued queued_now(const std::string& spool_path, const std::string& id, std::string* why) {
  std::string problem;
  if (spool::locate_message(spool_path, id, &problem)) return Queued::yes;
  if (problem.empty()) return Queued::no;
  *why = "cannot tell whether it is queued: " + problem;
  return Queued::unknown;
}

// A removal copies a message's -D first and its -H last, and hands it to exim -Mrm only then:
// one the manifest does not record as removed counts as quarantined only with both copies.
bool has_complete_copy(const QuarantinedMessage& message) {
  if (message.removed) return true;
  auto has = [&](const char* role) {
    return std::any_of(message.files.begin(), message.files.end(), [&](const auto& f) { return f.role == role; });
  };
  return has("H") && has("D");
}

// Why a message that is not queued cannot be restored, or "" when it can be.
std::string unrestorable(const Manifest& manifest, const QuarantinedMessage& message, const struct stat& spool,
                         std::vector<std::string>& relatives) {
  if (!has_complete_copy(message))
    return "not in the queue and not quarantined" + (message.note.empty() ? std::string() : " (" + message.note + ")");
  relatives.assign(message.files.size(), "");
  std::string why;
  for (size_t i = 0; i < message.files.size(); ++i)
    if (!is_spool_file_of(manifest, message, message.files[i], spool, &relatives[i], &why))
      return "not restored: " + why;
  return "";
}

// Restores what can be restored of an opened, trusted batch into the opened target spool.
void restore_messages(Manifest& manifest, int batch_fd, int spool_fd, const std::string& spool_path,
                      RestoreResult& result) {
  struct stat spool_stat;
  ::fstat(spool_fd, &spool_stat);
  for (QuarantinedMessage& message : manifest.messages) {
    std::string problem;
    if (message.restored || !eximlog::is_message_id(message.id)) {
      if (!message.restored) result.problems.push_back("'" + message.id + "' is not a message id");
      ++result.skipped;  // already put back: a second copy could be delivered twice
      continue;
    }
    Queued queued = queued_now(spool_path, message.id, &problem);
    if (queued != Queued::no) {
      if (queued == Queued::unknown) result.problems.push_back(message.id + ": " + problem);
      else if (message.removed) result.problems.push_back(message.id + ": already in the queue, not overwritten");
      ++result.skipped;  // removal failed or never ran: the message is where it was
      continue;
    }
    // Exim refused to remove it (locked by a delivery) or was never asked: it stayed queued,
    // and gone now means Exim delivered it. Putting it back would deliver it twice. Only a
    // removal with no answer recorded (the run killed while exim ran) is put back unconfirmed.
    if (!message.removed && !message.note.empty()) {
      result.notes.push_back(message.id + ": not restored: the removal did not happen (" + message.note +
                             "), so it stayed in the queue and has left it since (delivered, or removed by hand)");
      ++result.skipped;
      continue;
    }
    std::vector<std::string> relatives;
    if (std::string why = unrestorable(manifest, message, spool_stat, relatives); !why.empty()) {
      result.problems.push_back(message.id + ": " + why);
      ++result.skipped;
      continue;
    }
    if (!restore_message(spool_fd, spool_path, batch_fd, message, relatives, &problem)) {
      result.problems.push_back(message.id + ": " + problem);
      continue;
    }
    if (!message.removed)
      result.notes.push_back(message.id + ": restored though the batch did not record its removal (interrupted)");
    message.restored = true;
    ++result.restored;
  }
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
      files.push_back({{"role", f.role},
                       {"original_path", json_bytes(f.original_path)},
                       {"stored_name", json_bytes(f.stored_name)},
                       {"size", f.size},
                       {"mode", f.mode},
                       {"uid", f.uid},
                       {"gid", f.gid},
                       {"sha256", f.sha256}});
    messages.push_back({{"id", json_bytes(message.id)},
                        {"removed", message.removed},
                        {"restored", message.restored},
                        {"note", json_bytes(message.note)},
                        {"files", files}});
  }
  return {{"format", "spamwarden-quarantine-1"},
          {"batch", m.batch},
          {"created_at", m.created_at},
          {"operator", json_bytes(m.operator_name)},
          {"spool_dir", json_bytes(m.spool_dir)},
          {"selection", json_bytes(m.selection)},
          {"messages", messages}};
}

namespace {

// A size, mode or id: a whole number that fits, never a float or a negative one converted.
template <typename Number>
Number whole_number(const nlohmann::json& j, const char* key) {
  const nlohmann::json& value = j.at(key);
  if (!value.is_number_unsigned() || value.get<uint64_t>() > std::numeric_limits<Number>::max())
    throw std::out_of_range(std::string("'") + key + "' is not a whole number in range");
  return Number(value.get<uint64_t>());
}

}  // namespace

bool manifest_from_json(const nlohmann::json& j, Manifest& m, std::string* error) {
  try {
    m.batch = j.at("batch"), m.created_at = j.at("created_at"), m.operator_name = bytes_from_json(j.at("operator"));
    m.spool_dir = bytes_from_json(j.at("spool_dir")), m.selection = bytes_from_json(j.at("selection"));
    m.messages.clear();
    for (const auto& jm : j.at("messages")) {
      QuarantinedMessage message{bytes_from_json(jm.at("id")),
                                 jm.at("removed"),
                                 jm.value("restored", false),
                                 jm.contains("note") ? bytes_from_json(jm["note"]) : std::string(),
                                 {}};
      for (const auto& jf : jm.at("files"))
        message.files.push_back({jf.at("role"), bytes_from_json(jf.at("original_path")),
                                 bytes_from_json(jf.at("stored_name")), whole_number<uint64_t>(jf, "size"),
                                 whole_number<uint32_t>(jf, "mode"), whole_number<uint32_t>(jf, "uid"),
                                 whole_number<uint32_t>(jf, "gid"), jf.at("sha256")});
      m.messages.push_back(std::move(message));
    }
    return true;
  } catch (const nlohmann::json::exception& e) {
    *error = std::string("bad manifest: ") + e.what();
    return false;
  } catch (const std::out_of_range& e) {
    *error = std::string("bad manifest: ") + e.what();
    return false;
  }
}

bool manifest_from_text(std::string_view text, Manifest& out, std::string* error) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return *error = "not JSON", false;
  return manifest_from_json(json, out, error);
}

RemoveResult quarantine_and_remove(const std::vector<spool::MessageLocation>& messages, const std::string& state_dir,
                                   const std::string& spool_dir, const std::string& selection,
                                   const std::string& operator_name, int64_t now, EximRunner& exim,
                                   const BeforeRemoval& before_removal) {
  RemoveResult result;
  if (!verify_exim_spool(exim, spool_dir, &result.error)) return result;
  // Absolute paths only: a batch must be restorable from any working directory.
  SpoolSource spool{-1, canonical_path(spool_dir)};
  Fd spool_fd(::open(spool.spool_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  spool.spool_fd = spool_fd.get();
  if (spool.spool_path.empty() || !spool_fd.valid()) {
    result.error = "cannot open the spool " + spool_dir + ": " + std::strerror(errno);
    return result;
  }
  result.manifest = {
      new_batch_name(now, ::getpid()), utc_timestamp(now), operator_name, spool.spool_path, selection, {}};
  result.batch_dir = batch_directory(state_dir, result.manifest.batch);
  if (!make_directories(result.batch_dir, 0700)) {
    result.error = "cannot create " + result.batch_dir + ": " + std::strerror(errno);
    return result;
  }
  result.batch_dir = canonical_path(result.batch_dir);
  Fd batch_fd(::open(result.batch_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!batch_fd.valid()) {
    result.error = "cannot open " + result.batch_dir + ": " + std::strerror(errno);
    return result;
  }
  std::vector<std::string> copied_ids;
  for (const spool::MessageLocation& location : messages) {
    QuarantinedMessage message{location.id, false, false, "", {}};
    std::string problem;
    if (copy_message(spool, spool_dir, location, batch_fd.get(), message, &problem)) {
      copied_ids.push_back(location.id);
    } else {
      message.note = "not removed: " + problem;  // never delete what we could not keep
      ++result.failed;
    }
    result.manifest.messages.push_back(std::move(message));
  }
  // The manifest is on disk before anything is deleted: a crash here loses nothing.
  if (!write_manifest(batch_fd.get(), result.batch_dir, result.manifest, &result.error)) return result;
  if (before_removal && !copied_ids.empty() && !before_removal(result.manifest, copied_ids, &result.error)) {
    for (QuarantinedMessage& message : result.manifest.messages)
      if (message.note.empty()) message.note = "not removed: stopped before exim ran";
    result.failed += copied_ids.size();
    // So that a restore knows exim never ran (the disk that refused the intent may take this).
    write_manifest(batch_fd.get(), result.batch_dir, result.manifest, &result.manifest_error);
    return result;
  }
  std::vector<ActionOutcome> outcomes = run_exim_action(exim, EximAction::remove, copied_ids);
  for (QuarantinedMessage& message : result.manifest.messages) {
    for (const ActionOutcome& outcome : outcomes) {
      if (outcome.id != message.id) continue;
      message.removed = outcome.ok;
      message.note = outcome.ok ? outcome.detail : "not removed: " + outcome.detail;
      outcome.ok ? ++result.removed : ++result.failed;
    }
  }
  write_manifest(batch_fd.get(), result.batch_dir, result.manifest, &result.manifest_error);
  return result;
}

RestoreResult restore_batch(const std::string& state_dir, const std::string& batch, const std::string& spool_dir) {
  RestoreResult result;
  std::string batch_dir = batch_directory(state_dir, batch);
  Fd batch_fd(::open(batch_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!batch_fd.valid()) {
    result.error = "cannot open " + batch_dir + ": " + std::strerror(errno);
    return result;
  }
  std::optional<Manifest> manifest = read_trusted_manifest(batch_fd.get(), batch_dir, &result.error);
  if (!manifest) return result;
  // The target is the spool of the Exim we act for, never a directory the manifest names.
  std::string spool_path = canonical_path(spool_dir);
  Fd spool_fd(::open(spool_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (spool_path.empty() || !spool_fd.valid()) {
    result.error = "refused: " + open_failure("the spool " + spool_dir);
    return result;
  }
  if (!manifest->spool_dir.starts_with("/") || canonical_path(manifest->spool_dir) != spool_path) {
    result.error = "refused: the batch was taken from the spool " + manifest->spool_dir + ", not from " + spool_path +
                   " (the spool of the Exim that would deliver it)";
    return result;
  }
  restore_messages(*manifest, batch_fd.get(), spool_fd.get(), spool_path, result);
  write_manifest(batch_fd.get(), batch_dir, *manifest, &result.error);
  return result;
}

}  // namespace sw::queue
