// `--script DIR`: the log knows a script by its directory (cwd=), the spool only by the file its
// header names: X-PHP-Originating-Script "UID:file.php", or X-PHP-Script "host/path/file.php".
// A directory on this machine bridges the two: its files' names and owners.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace sw::queue {

struct ScriptDirectory {
  std::string path;
  int64_t owner_uid = -1;
  std::map<std::string, std::set<int64_t>> files;      // base name of each regular file beneath it -> owner uids
  std::map<std::string, std::set<std::string>> paths;  // base name -> paths relative to `path`
  bool truncated = false;                              // more entries than the walk reads
};

// Walks `path` (without following symbolic links, at most kMaxScriptDirectoryEntries entries);
// nullopt with *error when it is not a directory that can be read.
inline constexpr size_t kMaxScriptDirectoryEntries = 200000;
std::optional<ScriptDirectory> read_script_directory(const std::string& path, std::string* error);

// The file a script header names and the uid it gives: "1001:mailer.php" -> {1001, "mailer.php"},
// "www.example.com/forms/contact.php" -> {nullopt, "contact.php"}. Pure.
struct ScriptHeaderFile {
  std::optional<int64_t> uid;
  std::string file_name;
  std::string url_path;  // X-PHP-Script's path after the host ("forms/contact.php"), else empty
};
ScriptHeaderFile parse_script_header(std::string_view value);

// How a header ties a message to the directory. X-PHP-Script's URL path with directories in it
// ("host/wp-includes/PHPMailer.php") must end a file's path beneath it: by_path. A bare file
// name ("1001:PHPMailer.php") can only be compared by name: by_file_name, which another site's
// copy of the same file matches too. Either way the uid the header gives (else the message's
// owner uid) must own the directory or a file of that name.
enum class ScriptEvidence { none, by_file_name, by_path };
ScriptEvidence script_evidence(const ScriptDirectory& directory, std::string_view header_value, int64_t message_uid);

inline bool script_in_directory(const ScriptDirectory& directory, std::string_view header_value, int64_t message_uid) {
  return script_evidence(directory, header_value, message_uid) != ScriptEvidence::none;
}

}  // namespace sw::queue
