// Where the spool is and where each message's files live (exim-formats.md 3.1).
// Finding the spool reads only the Exim config file named by the user; no exim process is run.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::spool {

// cPanel first (split spool), then Debian; the first one holding an input/ directory wins.
inline const std::vector<std::string> kDefaultSpoolCandidates = {"/var/spool/exim", "/var/spool/exim4"};

// The top-level "spool_directory = ..." setting of an Exim config text, if set literally.
// Pure; macros and expansions are not resolved (a value containing '$' is rejected).
std::optional<std::string> spool_directory_from_config(std::string_view config_text);

// Resolves the spool: an explicit directory, else the config file's setting, else the
// candidates. Returns nullopt and fills *why when none works.
std::optional<std::string> find_spool_directory(const std::string& explicit_dir, const std::string& config_path,
                                                std::string* why,
                                                const std::vector<std::string>& candidates = kDefaultSpoolCandidates);

// One queued message's files. `input_dir` is <spool>/input[/X] or, for messages moved by
// move_frozen_messages, <spool>/Finput[/X] (Exim's own tools do not see those).
struct MessageLocation {
  std::string id;
  std::string input_dir;
  std::string msglog_dir;
  bool moved_frozen = false;
  bool data_seen = false;  // the listing saw its -D file too (readers may skip checking for it)

  std::string header_path() const { return input_dir + "/" + id + "-H"; }
  std::string data_path() const { return input_dir + "/" + id + "-D"; }
  std::string journal_path() const { return input_dir + "/" + id + "-J"; }
  std::string msglog_path() const { return msglog_dir + "/" + id; }
};

// The messages of a spool in compact form: ~32 bytes per message instead of three strings, so
// listing 100k messages costs ~3 MB. Directories are stored once.
struct SpoolListing {
  struct Entry {
    char id[24];     // NUL-terminated message id, zero-padded (memcmp orders like the ids)
    uint16_t dir;    // index into input_dirs / msglog_dirs / moved_frozen
    bool data_seen;  // the directory also held "<id>-D"
  };
  std::vector<std::string> input_dirs, msglog_dirs;
  std::vector<bool> moved_frozen;
  std::vector<Entry> entries;
  // Input directories that exist but could not be listed ("cannot read DIR: Permission denied"):
  // the listing is then incomplete, and no count or check may rest on it.
  std::vector<std::string> unreadable_dirs;

  size_t size() const { return entries.size(); }
  // "" when every input directory was read, else the first failure (and how many more).
  std::string error() const;
  // Fills `out` (reusing its storage) with the location of entry i.
  void location(size_t i, MessageLocation& out) const;
};

// Every message with a -H file, flat and split layouts and Finput/. Temporary files (hdr.*,
// -K, names that are not ids) are ignored. Sorted by id within each directory; whether the
// directory also held the -D file is noted (data_seen), so a reader that does not need the
// body size need not look for it again.
SpoolListing list_spool(const std::string& spool_dir);

// The same, expanded and sorted by id (for small selections and tests).
std::vector<MessageLocation> list_messages(const std::string& spool_dir);

// Location of one message by id (searching the same places); nullopt when no -H exists. A
// place that could not be looked into (anything but "no such file") is no answer either: with
// `why`, it says which, since "not queued" there would be no licence to write a message back.
std::optional<MessageLocation> locate_message(const std::string& spool_dir, std::string_view id,
                                              std::string* why = nullptr);

}  // namespace sw::spool
