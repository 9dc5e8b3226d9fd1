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
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_text.h"
#include "base/text.h"
#include "contain/hold_list.h"
#include "queue/audit_log.h"
#include "spool/spool_header.h"
#include "spool/spool_location.h"

namespace sw::contain {

namespace {

constexpr std::string_view kSuffix = ".spamwarden-held";

std::string errno_text() { return std::strerror(errno); }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Paths are bytes, not always UTF-8 (a Latin-1 site directory): kept exactly, for the restore.
nlohmann::json to_json(const DisabledScript& d) {
  return {{"actor", json_bytes(d.actor)}, {"original", json_bytes(d.original)}, {"renamed", json_bytes(d.renamed)},
          {"mode", d.mode}, {"time", d.time}};
}

std::optional<DisabledScript> from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  auto bytes = [&](const char* key) { return j.contains(key) ? bytes_from_json(j[key]) : std::string(); };
  try {
    DisabledScript d{bytes("actor"), bytes("original"), bytes("renamed"), j.value("mode", 0u), j.value("time", int64_t(0))};
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
  int fd = ::open(disabled_scripts_path(state_dir).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
  if (!ok) *problem = "cannot record " + d.renamed + ": " + errno_text();
  if (fd >= 0) ::close(fd);
  return ok;
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

std::optional<DisabledScript> disable_script(const std::string& state_dir, const std::string& dir,
                                             const ScriptRef& ref, int64_t now, const std::string& operator_name,
                                             std::string* problem) {
  problem->clear();
  DisabledScript d{.actor = "script:" + dir, .original = dir + "/" + ref.name,
                   .renamed = dir + "/" + ref.name + std::string(kSuffix), .mode = 0, .time = now};
  struct stat st {};
  if (::lstat(d.original.c_str(), &st) != 0) {
    if (::lstat(d.renamed.c_str(), &st) != 0) *problem = d.original + ": " + errno_text();
    return std::nullopt;  // already disabled (no problem), or not there
  }
  if (!S_ISREG(st.st_mode)) *problem = d.original + ": not a regular file, left alone";
  else if (ref.uid <= 0) *problem = d.original + ": the header names uid " + std::to_string(ref.uid) + ", left alone";
  else if (int64_t(st.st_uid) != ref.uid)
    *problem = fmt::format("{}: owned by uid {}, the mail says uid {}; left alone", d.original, st.st_uid, ref.uid);
  if (!problem->empty()) return std::nullopt;
  d.mode = st.st_mode & 07777;
  if (::renameat2(AT_FDCWD, d.original.c_str(), AT_FDCWD, d.renamed.c_str(), RENAME_NOREPLACE) != 0) {
    *problem = "cannot rename " + d.original + ": " + errno_text();
    return std::nullopt;
  }
  if (::chmod(d.renamed.c_str(), 0) != 0) {
    *problem = "cannot chmod 000 " + d.renamed + ": " + errno_text();
    ::renameat2(AT_FDCWD, d.renamed.c_str(), AT_FDCWD, d.original.c_str(), RENAME_NOREPLACE);
    return std::nullopt;
  }
  if (!append_record(state_dir, d, problem)) {  // not restorable by release: undo
    ::chmod(d.renamed.c_str(), d.mode);
    ::renameat2(AT_FDCWD, d.renamed.c_str(), AT_FDCWD, d.original.c_str(), RENAME_NOREPLACE);
    return std::nullopt;
  }
  queue::append_audit_record(state_dir,
                             {{"action", "disable_script"}, {"actor", d.actor}, {"file", d.original},
                              {"renamed_to", d.renamed}, {"mode", fmt::format("{:04o}", d.mode)}},
                             operator_name, nullptr);
  return d;
}

ScriptDisableResult disable_held_scripts(const std::string& spool_dir, const std::string& state_dir,
                                         const std::string& login, const std::string& dir, int64_t now,
                                         const std::string& operator_name, size_t max_messages) {
  ScriptDisableResult r;
  std::set<std::pair<int64_t, std::string>> scripts;
  size_t read = 0;
  spool::SpoolHeader header;
  for (const spool::MessageLocation& m : spool::list_messages(spool_dir)) {
    if (read++ >= max_messages) break;
    if (!spool::parse_spool_header(read_all(m.header_path()), header).ok() || header.login != login) continue;
    for (const spool::Header& h : header.headers)
      if (!h.deleted() && iequals(h.name(), "X-PHP-Originating-Script"))
        if (auto ref = parse_originating_script(h.value())) scripts.insert({ref->uid, ref->name});
  }
  std::string problem;
  for (const auto& [uid, name] : scripts) {
    if (auto d = disable_script(state_dir, dir, ScriptRef{uid, name}, now, operator_name, &problem))
      r.disabled.push_back(std::move(*d));
    else if (!problem.empty())
      r.problems.push_back(problem);
  }
  return r;
}

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
    if (::renameat2(AT_FDCWD, d.renamed.c_str(), AT_FDCWD, d.original.c_str(), RENAME_NOREPLACE) != 0) {
      problems->push_back("cannot restore " + d.original + " from " + d.renamed + ": " + errno_text());
      keep.push_back(d);
      continue;
    }
    ::chmod(d.original.c_str(), d.mode);
    ++restored;
    queue::append_audit_record(state_dir,
                               {{"action", "restore_script"}, {"actor", d.actor}, {"file", d.original},
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
