#include "audit/catchall_fix.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/sha256.h"
#include "queue/audit_log.h"
#include "queue/spool_files.h"

namespace sw::audit {
namespace {

using queue::Fd;

struct OpenedFile {
  Fd dir;
  std::string name;
  std::string bytes;
  struct stat st {};
};

std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/') + (path.rfind('/') == 0)); }
std::string base_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Opens the parent directory (not through a link at its last component) and the file beneath it.
bool open_file(const std::string& path, OpenedFile* out, std::string* error) {
  if (path.find('/') == std::string::npos) return *error = path + ": not an absolute path", false;
  out->dir = Fd(::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!out->dir.valid()) return *error = dir_of(path) + ": " + std::strerror(errno), false;
  out->name = base_of(path);
  Fd file(queue::open_beneath(out->dir.get(), out->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!file.valid()) return *error = queue::open_failure(path), false;
  if (!queue::read_regular_file(file.get(), out->bytes, &out->st))
    return *error = path + ": not a readable regular file", false;
  return true;
}

bool write_whole(const std::string& path, const std::string& bytes, mode_t mode, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return *error = path + ": " + std::strerror(errno), false;
  Fd owner(fd);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return *error = path + ": " + std::strerror(errno), false;
    done += size_t(n);
  }
  if (::fsync(fd) != 0) return *error = path + ": " + std::strerror(errno), false;
  return true;
}

std::string new_batch_id() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%d-%H%M%S", &tm);
  return fmt::format("catchall-{}-{}", buffer, ::getpid());
}

bool valid_batch_id(const std::string& id) {
  if (id.empty() || id.size() > 100 || id[0] == '.') return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

bool set_times(int dir_fd, const std::string& name, const nlohmann::json& entry) {
  timespec times[2];
  times[0] = {entry.value("atime_sec", 0L), entry.value("atime_nsec", 0L)};
  times[1] = {entry.value("mtime_sec", 0L), entry.value("mtime_nsec", 0L)};
  return ::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0;
}

}  // namespace

std::string fail_catchall_text(std::string_view text, const CatchallLine& line) {
  std::string entry = "*: :fail: " + std::string(kFailText);
  std::string_view target = line.target;
  if (target.starts_with(":fail:") && target.size() > 6) entry = "*: " + std::string(target);
  std::string out(text.substr(0, line.offset));
  out += entry;
  out += text.substr(std::min(text.size(), line.offset + line.length));
  return out;
}

FixOutcome apply_catchall_fix(const std::string& state_dir, const std::vector<DomainCatchall>& domains,
                              const Exim* exim) {
  FixOutcome outcome;
  outcome.batch_id = new_batch_id();
  std::string batches = state_dir + "/audit-batches";
  outcome.batch_dir = batches + "/" + outcome.batch_id;
  for (const std::string& dir : {state_dir, batches, outcome.batch_dir, outcome.batch_dir + "/files"})
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      outcome.errors.push_back(dir + ": " + std::strerror(errno));
      return outcome;
    }
  // 1. Snapshot every file and plan its new bytes; nothing changes before the manifest is safe.
  struct Planned {
    const DomainCatchall* domain;
    OpenedFile file;
    std::string after;
  };
  std::vector<Planned> planned;
  nlohmann::json manifest = {
      {"batch", outcome.batch_id}, {"kind", "catchall-fail"}, {"files", nlohmann::json::array()}};
  for (const DomainCatchall& d : domains) {
    if (d.file.empty()) {
      outcome.messages.push_back(d.domain + ": no alias file (found with exim -bv); change its router by hand");
      continue;
    }
    Planned p{&d, {}, {}};
    std::string error;
    if (!open_file(d.file, &p.file, &error)) {
      outcome.errors.push_back(error);
      continue;
    }
    auto line = find_catchall(p.file.bytes);
    if (!line) {
      outcome.messages.push_back(d.domain + ": the catch-all is gone since the scan; left alone");
      continue;
    }
    p.after = fail_catchall_text(p.file.bytes, *line);
    std::string snapshot = fmt::format("files/{}", planned.size());
    if (!write_whole(outcome.batch_dir + "/" + snapshot, p.file.bytes, 0600, &error)) {
      outcome.errors.push_back(error);
      return outcome;
    }
    const struct stat& st = p.file.st;
    manifest["files"].push_back({{"domain", d.domain},
                                 {"path", d.file},
                                 {"snapshot", snapshot},
                                 {"uid", st.st_uid},
                                 {"gid", st.st_gid},
                                 {"mode", st.st_mode & 07777},
                                 {"mtime_sec", st.st_mtim.tv_sec},
                                 {"mtime_nsec", st.st_mtim.tv_nsec},
                                 {"atime_sec", st.st_atim.tv_sec},
                                 {"atime_nsec", st.st_atim.tv_nsec},
                                 {"size", p.file.bytes.size()},
                                 {"sha256_before", sha256_hex(p.file.bytes)},
                                 {"sha256_after", sha256_hex(p.after)},
                                 {"catchall_before", line->target}});
    planned.push_back(std::move(p));
  }
  std::string error;
  if (!write_whole(outcome.batch_dir + "/manifest.json", json_text(manifest, 2) + "\n", 0600, &error)) {
    outcome.errors.push_back(error);
    return outcome;
  }
  // 2. Change each file in place (same owner and mode), then re-verify through Exim.
  for (Planned& p : planned) {
    const struct stat& st = p.file.st;
    if (!queue::write_file_at(p.file.dir.get(), p.file.name, p.domain->file, p.after, st.st_mode & 07777,
                              int(st.st_uid), int(st.st_gid), &error)) {
      outcome.errors.push_back(error);
      continue;
    }
    ++outcome.changed;
    if (!exim) continue;
    std::string nonce = "sw-nonexistent-" + std::to_string(::getpid()) + "-probe@" + p.domain->domain;
    ProcessResult r = exim->run({"-bv", nonce});
    outcome.messages.push_back(r.exit_code == 2
                                   ? p.domain->domain + ": re-verified, unknown local parts now fail"
                                   : fmt::format("{}: exim -bv {} still gives exit {} (another router accepts it?)",
                                                 p.domain->domain, nonce, r.exit_code));
  }
  nlohmann::json record = {{"action", "audit fix catchall"},
                           {"batch", outcome.batch_id},
                           {"changed", outcome.changed},
                           {"errors", outcome.errors}};
  if (!queue::append_audit_record(state_dir, record, queue::current_operator(), &error))
    outcome.errors.push_back("audit trail: " + error);
  return outcome;
}

RestoreOutcome restore_catchall_batch(const std::string& state_dir, const std::string& batch_id, bool force) {
  RestoreOutcome outcome;
  if (!valid_batch_id(batch_id)) {
    outcome.errors.push_back("'" + batch_id + "' is not a batch name (see the fix's output)");
    return outcome;
  }
  std::string dir = state_dir + "/audit-batches/" + batch_id;
  OpenedFile manifest_file;
  std::string error;
  if (!open_file(dir + "/manifest.json", &manifest_file, &error)) {
    outcome.errors.push_back("no such batch: " + error);
    return outcome;
  }
  nlohmann::json manifest = nlohmann::json::parse(manifest_file.bytes, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("files") || !manifest["files"].is_array()) {
    outcome.errors.push_back(dir + "/manifest.json: damaged");
    return outcome;
  }
  for (const nlohmann::json& entry : manifest["files"]) {
    std::string path = entry.value("path", ""), snapshot_name = entry.value("snapshot", "");
    OpenedFile snapshot, current;
    if (!open_file(dir + "/" + snapshot_name, &snapshot, &error) ||
        sha256_hex(snapshot.bytes) != entry.value("sha256_before", "")) {
      outcome.errors.push_back(path + ": its snapshot is missing or damaged; not restored");
      continue;
    }
    bool exists = open_file(path, &current, &error);
    if (!current.dir.valid()) {
      outcome.errors.push_back(error);
      continue;
    }
    bool changed = !exists || sha256_hex(current.bytes) != entry.value("sha256_after", "");
    if (changed && !force) {
      outcome.refused.push_back(path + (exists ? ": changed" : ": removed") +
                                " since the fix; not overwritten (--force restores anyway)");
      continue;
    }
    if (!queue::write_file_at(current.dir.get(), current.name.empty() ? path.substr(path.rfind('/') + 1) : current.name,
                              path, snapshot.bytes, entry.value("mode", 0600u), entry.value("uid", -1),
                              entry.value("gid", -1), &error)) {
      outcome.errors.push_back(error);
      continue;
    }
    if (!set_times(current.dir.get(), path.substr(path.rfind('/') + 1), entry))
      outcome.errors.push_back(path + ": restored, but its mtime could not be set: " + std::strerror(errno));
    ++outcome.restored;
  }
  nlohmann::json record = {{"action", "audit restore"},  {"batch", batch_id},        {"restored", outcome.restored},
                           {"refused", outcome.refused}, {"errors", outcome.errors}, {"force", force}};
  if (!queue::append_audit_record(state_dir, record, queue::current_operator(), &error))
    outcome.errors.push_back("audit trail: " + error);
  return outcome;
}

}  // namespace sw::audit
