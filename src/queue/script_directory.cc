#include "queue/script_directory.h"

#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <system_error>

namespace sw::queue {

std::optional<ScriptDirectory> read_script_directory(const std::string& path, std::string* error) {
  namespace fs = std::filesystem;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = path + " is not a directory on this machine";
    return std::nullopt;
  }
  ScriptDirectory dir{path, int64_t(st.st_uid), {}, {}, false};
  std::error_code ec;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) {
    *error = "cannot read " + path + ": " + ec.message();
    return std::nullopt;
  }
  size_t entries = 0;
  for (; it != end; it.increment(ec)) {
    if (ec) break;  // what was read so far still names files
    if (++entries > kMaxScriptDirectoryEntries) {
      dir.truncated = true;
      break;
    }
    struct stat file {};
    if (::lstat(it->path().c_str(), &file) != 0 || !S_ISREG(file.st_mode)) continue;
    std::string name = it->path().filename().string();
    dir.files[name].insert(int64_t(file.st_uid));
    dir.paths[name].insert(it->path().lexically_relative(path).string());
  }
  return dir;
}

ScriptHeaderFile parse_script_header(std::string_view value) {
  ScriptHeaderFile out;
  size_t for_ip = value.rfind(" for ");  // X-PHP-Script: "host/path/file.php for 1.2.3.4"
  if (for_ip != std::string_view::npos) value = value.substr(0, for_ip);
  size_t colon = value.find(':');
  if (colon != std::string_view::npos && colon > 0 && value.find('/') > colon) {
    int64_t uid = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + colon, uid);
    if (ec == std::errc() && end == value.data() + colon) {
      out.uid = uid;
      value.remove_prefix(colon + 1);
    }
  }
  size_t slash = value.rfind('/');
  out.file_name = std::string(slash == std::string_view::npos ? value : value.substr(slash + 1));
  size_t host_end = value.find('/');
  if (!out.uid && host_end != std::string_view::npos) out.url_path = std::string(value.substr(host_end + 1));
  return out;
}

namespace {

// A file beneath the directory whose path ends with the URL path, component by component.
bool has_path_ending(const std::set<std::string>& paths, const std::string& url_path) {
  for (const std::string& path : paths)
    if (path == url_path || path.ends_with("/" + url_path)) return true;
  return false;
}

}  // namespace

ScriptEvidence script_evidence(const ScriptDirectory& directory, std::string_view header_value, int64_t message_uid) {
  ScriptHeaderFile file = parse_script_header(header_value);
  if (file.file_name.empty()) return ScriptEvidence::none;
  auto found = directory.files.find(file.file_name);
  if (found == directory.files.end()) return ScriptEvidence::none;
  int64_t uid = file.uid.value_or(message_uid);
  if (uid != directory.owner_uid && found->second.count(uid) == 0) return ScriptEvidence::none;
  if (file.url_path.find('/') == std::string::npos) return ScriptEvidence::by_file_name;
  // The URL names directories: the file must lie beneath DIR on that path, not merely share its name.
  auto paths = directory.paths.find(file.file_name);
  return paths != directory.paths.end() && has_path_ending(paths->second, file.url_path) ? ScriptEvidence::by_path
                                                                                         : ScriptEvidence::none;
}

}  // namespace sw::queue
