// Optional, off by default (`[watch] disable_scripts = true`): when a script directory is
// held, the script files that sent the held mail are taken out of service the way admins do
// it by hand — renamed to NAME.spamwarden-held and chmod 000 — so the web server can no
// longer run them while their mail stays frozen. `spamwarden release script:DIR` puts each
// one back (name and mode). Every rename and restore is appended to <state>/audit.jsonl; what
// a restore needs is kept in <state>/disabled-scripts.jsonl.
//
// Which files: the log names only the directory (cwd=). PHP's mail() adds
// "X-PHP-Originating-Script: UID:file.php" (mail.add_x_header, on by default on cPanel), and
// the held messages carry it in the spool. The header is written by the script, so only its
// file name is used: a file is renamed only if it is a regular file directly in the held
// directory, owned by the uid that submitted the mail (the -H owner line, written by Exim),
// not root's, not setuid/setgid and with one hard link.
//
// All of it runs as root in a directory the account owns, which may swap names for links at
// any moment: the directory is opened without following any link on its path, the file is
// opened relative to it with O_NOFOLLOW and checked on its descriptor, renames are relative
// to the directory descriptor, and the mode is changed on the open file, never by name.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::contain {

struct ScriptRef {
  int64_t uid = -1;  // parsed: the uid the header names; for disable_script: the owner required
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
  // The disabled file itself, checked again before a restore; -1/0 in records written before
  // these were kept (a restore then requires a regular file of mode 000 not owned by root).
  int64_t uid = -1;
  uint64_t dev = 0, ino = 0;
};

// Renames dir/ref.name to NAME.spamwarden-held, chmod 000, records it for the restore and in
// the audit log. The file must be owned by ref.uid (the submitting user's uid). nullopt with
// *problem when the file does not qualify or a step fails (a file already disabled is not a
// problem: nullopt, *problem empty).
std::optional<DisabledScript> disable_script(const std::string& state_dir, const std::string& dir, const ScriptRef& ref,
                                             int64_t now, const std::string& operator_name, std::string* problem);

struct ScriptDisableResult {
  std::vector<DisabledScript> disabled;
  std::vector<std::string> problems;
};

// Reads the -H files of the spool's messages submitted by `login` (at most max_messages of
// them; regular files only, never through a link), collects their X-PHP-Originating-Script
// names and disables those found in `dir` that belong to the uid of the -H owner line.
ScriptDisableResult disable_held_scripts(const std::string& spool_dir, const std::string& state_dir,
                                         const std::string& login, const std::string& dir, int64_t now,
                                         const std::string& operator_name, size_t max_messages = 5000);

// Puts back every script disabled for the held directory `dir` (original name and mode) and
// forgets them; returns how many were restored. A file that cannot be restored (the original
// name is taken again, the renamed file is gone or is no longer the file that was disabled)
// stays recorded and is described in *problems.
size_t restore_scripts(const std::string& state_dir, const std::string& dir, const std::string& operator_name,
                       std::vector<std::string>* problems);

std::string disabled_scripts_path(const std::string& state_dir);  // <state>/disabled-scripts.jsonl

}  // namespace sw::contain
