// The content model of a fleet, in Redis: every learned message is an entry of one stream, the
// journal, which every server applies in the same order, so all hold the same counts; a
// snapshot (the model file's bytes at a journal position) lets a new server start without
// replaying everything, and lets the journal be trimmed. Scanning never reads Redis: each
// server scans with its own copy and follows the journal (Scanner::sync).
//
// Keys: PREFIX content:journal (stream; field "e": encode_entry()) and PREFIX content:snapshot
// (hash: "position", "model", "trimmed": entries before it were deleted, and "damaged" once a
// server found it does not load). A snapshot is
// replaced only by one further on, atomically with trimming the journal before the position of
// the snapshot it replaces: a server whose position is not before "trimmed" can always catch up
// from the journal, one behind it loads the snapshot again.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "classify/journal_entry.h"
#include "store/redis_connection.h"

namespace sw::classify {

struct ModelJournalOptions {
  std::string address = "127.0.0.1:6379";
  std::string key_prefix = "spamwarden:";
  // Off the mail path (learning, the background sync), and a snapshot is megabytes: longer
  // than the rate counters' tens of milliseconds.
  int connect_timeout_ms = 500;
  int command_timeout_ms = 5000;
};

class ModelJournal {
 public:
  explicit ModelJournal(ModelJournalOptions options);

  // The new entry's id; nullopt when Redis is out of reach or refused (error()).
  std::optional<StreamId> append(const std::string& entry);

  struct Batch {
    std::vector<std::pair<StreamId, std::string>> entries;  // in journal order
    bool behind_trim = false;      // entries after `after` may be gone: load the snapshot again
    bool snapshot_stored = false;  // else none (a fleet's start, or Redis lost it)
  };
  // At most `max` entries after `after`; nullopt when Redis is out of reach.
  std::optional<Batch> read_after(StreamId after, std::size_t max);

  struct Snapshot {
    StreamId position;
    std::string model;  // Model::to_bytes()
  };
  // The stored snapshot (nullopt inside when there is none yet); nullopt when out of reach.
  std::optional<std::optional<Snapshot>> snapshot();
  // Stores `model` as of `position` unless the stored snapshot is at or past it, trimming the
  // journal before the replaced snapshot's position; false when not stored (error() says why).
  // A snapshot marked damaged (below) is replaced by one at its own position too.
  bool store_snapshot(StreamId position, const std::string& model);
  // Marks the snapshot at `position` as one that does not load (field "damaged": why): syncs
  // then report no snapshot, so the next server with a copy of its own stores that copy, as when
  // Redis lost it. False when it is not that snapshot any more, or Redis is out of reach.
  bool mark_snapshot_damaged(StreamId position, const std::string& why);
  // Entries in the journal now (what a snapshot would let go of), or nullopt.
  std::optional<uint64_t> length();

  const std::string& error() const { return error_; }

 private:
  // The reply, or nullptr with error_ set (out of reach, or an error reply).
  store::RedisConnection::Reply run(const std::vector<std::string>& argv, int timeout_ms = 0);

  ModelJournalOptions options_;
  store::RedisConnection redis_;
  std::string journal_key_, snapshot_key_;
  std::string error_;
};

}  // namespace sw::classify
