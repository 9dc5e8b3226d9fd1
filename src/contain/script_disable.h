// Optional, off by default (`[watch] disable_scripts = true`): when a script directory is
// held, the script files that sent the held mail are taken out of service the way admins do
// it by hand — renamed to NAME.spamwarden-held and chmod 000 — so the web server can no
// longer run them while their mail stays frozen. `spamwarden release script:DIR` puts each
// one back (name and mode). Every rename and restore is appended to <state>/audit.jsonl; what
// a restore needs is kept in <state>/disabled-scripts.jsonl.
//
// Which files: the log names only the directory (cwd=). PHP's mail() adds
// "X-PHP-Originating-Script: UID:file.php" (mail.add_x_header, on by default on cPanel), and
// the held messages carry it in the spool. A file is renamed only if it is a regular file
// (not a symlink) directly in the held directory, owned by the UID the header names, and that
// UID is not root.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::contain {

struct ScriptRef {
  int64_t uid = -1;
  std::string name;  // a plain file name: no '/', not "." or "..", not hidden
};

// Pure: "1001:mailer.php" -> {1001, "mailer.php"}; nullopt for anything else (no numeric uid,
// a path, a hidden name, control characters, a name over 255 bytes).
std::optional<ScriptRef> parse_originating_script(std::string_view value);

struct DisabledScript {
  std::string actor;     // "script:/home/u/public_html"
  std::string original;  // /home/u/public_html/mailer.php
  std::string renamed;   // /home/u/public_html/mailer.php.spamwarden-held
  uint32_t mode = 0;     // permission bits before chmod 000
  int64_t time = 0;
};

// Renames dir/ref.name to NAME.spamwarden-held, chmod 000, records it for the restore and in
// the audit log. nullopt with *problem when the file does not qualify or a step fails (a file
// already disabled is not a problem: nullopt, *problem empty).
std::optional<DisabledScript> disable_script(const std::string& state_dir, const std::string& dir,
                                             const ScriptRef& ref, int64_t now, const std::string& operator_name,
                                             std::string* problem);

struct ScriptDisableResult {
  std::vector<DisabledScript> disabled;
  std::vector<std::string> problems;
};

// Reads the -H files of the spool's messages submitted by `login` (at most max_messages of
// them), collects their X-PHP-Originating-Script names and disables those found in `dir`.
ScriptDisableResult disable_held_scripts(const std::string& spool_dir, const std::string& state_dir,
                                         const std::string& login, const std::string& dir, int64_t now,
                                         const std::string& operator_name, size_t max_messages = 5000);

// Puts back every script disabled for the held directory `dir` (original name and mode) and
// forgets them; returns how many were restored. A file that cannot be restored (the original
// name is taken again, the renamed file is gone) stays recorded and is described in *problems.
size_t restore_scripts(const std::string& state_dir, const std::string& dir, const std::string& operator_name,
                       std::vector<std::string>* problems);

std::string disabled_scripts_path(const std::string& state_dir);  // <state>/disabled-scripts.jsonl

}  // namespace sw::contain
