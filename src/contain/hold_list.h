// The hold lists Exim reads: one file per actor type under <state>/holds/, in lsearch format
// ("key": note). Keys are always quoted (IPv6 addresses and paths contain ':' or spaces).
// Files are replaced atomically (temp file + rename), so Exim never reads a half-written list,
// even if the disk fills mid-write. Durable writes also fsync the file before the rename and
// the directory after it; `watch` writes its lists without (they are visible to Exim at
// once) and syncs them off its read loop — they are rebuilt from the store on every start.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "detect/actor_type.h"

namespace sw::contain {

struct HoldListEntry {
  std::string key;
  std::string note;  // shown after the colon; Exim ignores it (the snippets only test presence)
};

// Pure: the file's content, one entry per line after a comment header.
std::string render_hold_list(detect::ActorType type, const std::vector<HoldListEntry>& entries);

// Pure: reads a hold list back (the lsearch subset we write, plus unquoted keys an admin may
// add by hand). Malformed lines are skipped and described in *errors with their line number.
std::vector<HoldListEntry> parse_hold_list(std::string_view text, std::vector<std::string>* errors);

enum class Durability { fsync, visible_only };
// Writes path atomically; false with *error if any step fails (the old file stays intact).
// Refuses a directory that is a symbolic link, or that is owned or writable by anyone but root
// (or the uid running this); the temporary file is created O_EXCL|O_NOFOLLOW in it.
bool write_file_atomically(const std::string& path, std::string_view content, std::string* error,
                           Durability durability = Durability::fsync);
// True when `dir` is a directory write_file_atomically accepts: not a symbolic link, owned by
// root (or the uid running this), not writable by group or others; else false with *error.
bool is_private_directory(const std::string& dir, std::string* error);
// fsync of the files (if they exist) and of their directory; false if any fsync failed.
bool sync_files(const std::vector<std::string>& paths, const std::string& dir);

std::string hold_list_path(const std::string& state_dir, detect::ActorType type);
std::string hold_list_dir(const std::string& state_dir);

}  // namespace sw::contain
