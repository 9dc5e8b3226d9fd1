// "Who fills the queue": streams every message into per-actor counters (one accumulator per
// scan thread, merged afterwards) and turns them into a report with findings. Memory grows
// with the number of distinct actors, never with the number of messages: ids are kept only as
// bounded samples for the evidence of findings.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "queue/message_facts.h"
#include "spool/spool_scanner.h"

namespace sw::queue {

enum class ActorKind {
  auth_account,
  local_user,
  sender,
  sender_domain,
  client_ip,
  helo,
  recipient_domain,
  subject,
  script
};
inline constexpr size_t kActorKinds = 9;
std::string_view actor_kind_name(ActorKind kind);

// Bounded, deterministic sample of message ids: keeps the `capacity` smallest (= oldest) ids.
// The largest kept id is cached, so a full sample costs one comparison per rejected id.
class IdSample {
 public:
  void add(std::string_view id, size_t capacity);
  void merge(const IdSample& other, size_t capacity);
  std::vector<std::string> sorted() const;
  size_t size() const { return ids_.size(); }

 private:
  void find_largest();
  std::vector<std::string> ids_;
  size_t largest_ = 0;
};

struct ActorCount {
  uint64_t messages = 0;
  uint64_t recipients = 0;
  uint64_t frozen = 0;
  uint64_t from_elsewhere = 0;  // bounces: those another server sent (not made by Exim here)
  bool mailbox_here = false;    // bounces: one was tried into a mailbox on this host (its msglog says)
  uint64_t moved_frozen = 0;    // bounces: those in Finput/, out of Exim's reach
  IdSample made_here;           // bounces: a few made here, whose msglogs say where they went
  IdSample ids;
};

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using ActorMap = std::unordered_map<std::string, ActorCount, TransparentHash, std::equal_to<>>;

struct Thresholds {
  size_t many_recipients = 20;            // pending recipients that make one message suspicious
  double dominant_share = 0.30;           // an actor holding this share of the queue...
  uint64_t dominant_floor = 50;           // ...and at least this many messages
  double backscatter_share = 0.05;        // bounces converging on one address, share of queue...
  uint64_t backscatter_floor = 10;        // ...and at least this many
  uint64_t backscatter_frozen = 50;       // ...or this many of them frozen, whatever their share
  uint64_t random_localparts_floor = 10;  // distinct random-looking local parts on one domain
  size_t sample_ids = 20;                 // ids kept as evidence per finding
};

inline constexpr size_t kAgeBuckets = 6;
inline constexpr std::array<int64_t, kAgeBuckets> kAgeBucketLimits = {3600,      6 * 3600,  24 * 3600,
                                                                      3 * 86400, 7 * 86400, INT64_MAX};
inline constexpr std::array<std::string_view, kAgeBuckets> kAgeBucketNames = {"<1h",   "1h-6h", "6h-24h",
                                                                              "1d-3d", "3d-7d", ">7d"};

struct UnreadableMessage {
  std::string id;
  std::string reason;
};

class SummaryAccumulator : public spool::ScanSink {
 public:
  SummaryAccumulator(int64_t now, const Thresholds& thresholds) : now_(now), thresholds_(thresholds) {}
  void on_message(const spool::MessageLocation& location, const spool::SpoolHeader& header, int64_t body_size) override;
  void on_unreadable(const spool::MessageLocation& location, std::string_view reason) override;
  void add(std::string_view id, const MessageFacts& facts, int64_t body_size);  // pure entry point
  void merge(const SummaryAccumulator& other);

  uint64_t messages = 0, frozen = 0, bounces = 0, recipients = 0, unreadable = 0, vanished = 0;
  uint64_t body_bytes = 0, moved_frozen = 0;
  uint64_t sized = 0;  // messages whose body size was read (the summary reads them only on request)
  int64_t oldest_age = 0;
  std::string oldest_id;
  std::array<uint64_t, kAgeBuckets> age_buckets{};
  std::array<ActorMap, kActorKinds> actors;
  ActorMap blamed;                                            // key "kind:actor", see blamed_actor()
  std::unordered_map<std::string, std::string> script_users;  // script header -> owner login (or "(several)")
  ActorMap many_recipient_by_actor;                           // key "kind:actor"
  ActorMap bounces_by_target;  // the bounce's recipient: the (often forged) sender of what bounced
  struct RandomSenders {
    uint64_t messages = 0, recipients = 0;
    std::unordered_set<std::string> local_parts;  // capped
    IdSample ids;
  };
  std::unordered_map<std::string, RandomSenders> random_by_domain;
  std::vector<UnreadableMessage> unreadable_messages;  // capped

 private:
  void count_actor(ActorKind kind, std::string_view key, const MessageFacts& facts, std::string_view id,
                   uint64_t recipients, bool sample);
  int64_t now_;
  Thresholds thresholds_;
  MessageFacts facts_;  // reused per message
  std::string key_;     // scratch for "kind:actor" keys
};

struct ActorRow {
  std::string key;
  uint64_t messages = 0, recipients = 0, frozen = 0;
  std::string local_user;  // script rows: who ran it (the owner login of its messages), as logs and holds name it
};

// A script header names only a file ("1001:mailer.php"); its messages' owner login says whose it is.
inline constexpr std::string_view kSeveralUsers = "(several)";
void note_script_user(std::unordered_map<std::string, std::string>& users, std::string_view script,
                      std::string_view login);

struct Finding {
  std::string kind;        // many_recipients, dominant_actor, backscatter, random_sender_localparts
  std::string actor_type;  // auth_account, local_user, sender, sender_domain, client_ip, script, bounce_recipient
  std::string actor;
  uint64_t messages = 0, recipients = 0;
  std::string summary;
  std::vector<std::string> ids;         // a bounded sample, oldest first
  uint64_t min_recipients = 0;          // many_recipients: the threshold that was applied
  uint64_t bounces_from_elsewhere = 0;  // backscatter: those another server sent
  std::string local_user{};             // script: who ran it (kSeveralUsers when more than one)
  // backscatter: all made here (Exim's cleanup would take the others' bounces to our user too)
  bool all_made_here() const { return bounces_from_elsewhere == 0; }
};

struct QueueReport {
  uint64_t messages = 0, frozen = 0, bounces = 0, unreadable = 0, vanished = 0, recipients = 0;
  uint64_t body_bytes = 0, moved_frozen = 0;
  bool body_bytes_known = false;  // every message's body size was read (--sizes)
  int64_t oldest_age = 0;
  std::string oldest_id;
  std::array<uint64_t, kAgeBuckets> age_buckets{};
  std::array<std::vector<ActorRow>, kActorKinds> top_actors;  // sorted by messages, descending
  std::array<size_t, kActorKinds> distinct_actors{};
  std::vector<Finding> findings;
  std::vector<UnreadableMessage> unreadable_messages;
  // Share of the queue held by the single largest blamed actor (auth account, local login or sender).
  double top_sender_share = 0;
  std::string top_sender;
};

QueueReport build_report(const SummaryAccumulator& summary, const Thresholds& thresholds, size_t top_n);

}  // namespace sw::queue
