// Quarantine batches: before `remove` asks exim to delete messages, their -H, -D, -J and msglog
// files are copied into <state>/quarantine/<batch>/ with a manifest (who, when, selection,
// sha256, owner, mode). `restore` verifies the hashes and puts the files back byte for byte,
// -D first and -H last (by rename), as Exim itself creates a message, so a queue runner never
// sees a half-restored message.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "queue/actions.h"
#include "queue/exim_runner.h"
#include "spool/spool_location.h"

namespace sw::queue {

inline const std::string kDefaultStateDir = "/var/lib/spamwarden";

struct QuarantinedFile {
  std::string role;           // "H", "D", "J" or "msglog"
  std::string original_path;  // absolute path in the spool
  std::string stored_name;    // file name inside the batch directory
  uint64_t size = 0;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::string sha256;
};

struct QuarantinedMessage {
  std::string id;
  bool removed = false;  // exim confirmed the removal (false too when the run died before exim answered)
  bool restored = false;
  std::string note;  // exim's reply or why it was not removed
  std::vector<QuarantinedFile> files;
};

struct Manifest {
  std::string batch;
  std::string created_at;  // UTC, ISO 8601
  std::string operator_name;
  std::string spool_dir;
  std::string selection;
  std::vector<QuarantinedMessage> messages;
};

nlohmann::json manifest_to_json(const Manifest& manifest);
bool manifest_from_json(const nlohmann::json& json, Manifest& out, std::string* error);
// manifest.json's text: JSON, then manifest_from_json.
bool manifest_from_text(std::string_view text, Manifest& out, std::string* error);

// "20261122-154406-12345": sortable, unique per process and second.
std::string new_batch_name(int64_t now, long pid);

struct RemoveResult {
  std::string batch_dir;
  Manifest manifest;
  size_t removed = 0, failed = 0;
  std::string error;  // environment failure (cannot create the batch, copy failed): nothing removed
  // The manifest could not record exim's answers after the removal: the messages are gone
  // from the queue and quarantined, and restore (which goes by the spool) still puts them back.
  std::string manifest_error;
};

// Called with the batch and the ids about to go to exim -Mrm, after their copies and the
// manifest are on disk; false (with *error) stops the removal before anything is deleted.
using BeforeRemoval =
    std::function<bool(const Manifest& manifest, const std::vector<std::string>& ids, std::string* error)>;

// Copies each message into a new batch, then removes the copied ones through exim -Mrm.
// Refuses (error) when spool_dir is not the spool of the Exim behind `exim`. A message whose
// files cannot be copied as they are (a symbolic link, not a regular file) is not removed.
RemoveResult quarantine_and_remove(const std::vector<spool::MessageLocation>& messages, const std::string& state_dir,
                                   const std::string& spool_dir, const std::string& selection,
                                   const std::string& operator_name, int64_t now, EximRunner& exim,
                                   const BeforeRemoval& before_removal = nullptr);

struct RestoreResult {
  size_t restored = 0, skipped = 0;
  std::vector<std::string> problems;  // per message: hash mismatch, neither in the queue nor restorable, ...
  std::vector<std::string> notes;     // restored although the manifest did not record the removal
  std::string error;                  // refused, or cannot read the batch at all: nothing restored
};

// Whether a message is restored is decided by the spool, not by the manifest's removed flag
// (a removal killed after exim -Mrm leaves it false): a message with no -H file in the spool
// whose quarantined copies are complete and intact is restored; one still queued is skipped;
// one neither queued nor restorable is a problem.
// `batch` is a batch name under <state>/quarantine or a path to a batch directory, which with
// its manifest must be owned by the running user and not writable by group or others.
// `spool_dir` is the spool of the Exim the messages go back to (from --spool or Exim's
// config, never from the manifest); the manifest's spool must be that same directory. Files
// are written beneath it without following symbolic links.
RestoreResult restore_batch(const std::string& state_dir, const std::string& batch, const std::string& spool_dir);

std::string batch_directory(const std::string& state_dir, const std::string& batch);

}  // namespace sw::queue
