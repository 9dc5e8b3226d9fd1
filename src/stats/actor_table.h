// Who sends: one table per actor kind, interning each actor's key once and counting what it
// did. Memory is proportional to the number of distinct actors.
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/chunked_vector.h"
#include "base/civil_time.h"
#include "base/flat_map.h"
#include "base/string_arena.h"
#include "base/text.h"
#include "stats/evidence.h"
#include "stats/peak_window.h"
#include "stats/recipient_sample.h"

namespace sw::stats {

enum class ActorKind : uint8_t {
  Script,           // cwd= directory of a local sendmail call (PHP mail() and friends)
  LocalUser,        // U= login of a local submission
  AuthAccount,      // A= SMTP-AUTH id
  ClientIp,         // last [ip] of H=
  Sender,           // envelope sender address
  SenderDomain,     // its domain
  Subject,          // T= subject, unescaped
  BounceRecipient,  // where bounces (<> sender) are addressed: backscatter victims
};
constexpr size_t kActorKinds = 8;
const char* actor_kind_key(ActorKind kind);    // JSON key: "script", "local_user", ...
const char* actor_kind_title(ActorKind kind);  // report heading

// What only some kinds need (bursts, evidence, account IPs): allocated on demand, so the
// high-cardinality kinds (senders, subjects, IPs) stay small.
// The client IPs an account was used from.
struct AccountIps {
  std::vector<std::string> listed;       // the first kMaxListedIps, in the order first seen
  std::unordered_set<uint64_t> hashes;   // exact distinct count
  std::vector<uint64_t> order;           // every distinct IP's hash, first seen first (slices merge by it)
  std::vector<CivilSeconds> first_seen;  // when each in `order` was first seen
  uint64_t last_hash = 0;                // a session's messages come from one IP: skip the set
};

// The logins that ran a script: the kMax first in byte order, a set, so that slices and
// rotated files merge to the same; `more` when others ran it too. A directory cron runs as
// its owner while the web server runs it as "nobody" (a hijacked form) has two, and a queue
// selection by either login would miss the other's mail.
struct ScriptLogins {
  static constexpr size_t kMax = 4;
  std::vector<std::string_view> names;  // sorted; in the table's arena
  bool more = false;
  bool has(std::string_view login) const { return std::find(names.begin(), names.end(), login) != names.end(); }
  // Notes one whose text the table keeps; false when it was known or fell past kMax.
  bool note(std::string_view login) {
    auto at = std::lower_bound(names.begin(), names.end(), login);
    if (at != names.end() && *at == login) return false;
    names.insert(at, login);
    if (names.size() <= kMax) return true;
    bool dropped_it = names.back() == login;
    names.pop_back();
    more = true;
    return !dropped_it;
  }
  // The one login that ran it, or "" (none known, or several).
  std::string_view only() const { return names.size() == 1 && !more ? names.front() : std::string_view(); }
};

// The recipients an actor's RecipientSample admits: all of a script's or user's; a quarter of
// an account's, as a host has tens of thousands of accounts mailing a few addresses each (a
// list of 64 still gives about the 16 a judgement needs).
inline uint32_t recipient_sample_ceiling(ActorKind kind) {
  return kind == ActorKind::AuthAccount ? RecipientSample::kEveryHash / 4 : RecipientSample::kEveryHash;
}

struct ActorExtras {
  std::optional<PeakWindow> window;  // kinds that can burst; inline: one pointer hop less per arrival
  Evidence evidence;
  std::unique_ptr<AccountIps> ips;         // AuthAccount, once used from one
  ScriptLogins logins;                     // Script: the logins that ran it
  std::unique_ptr<RecipientSample> named;  // Script, LocalUser, AuthAccount: whom it mailed, and again (a digest)
  // Kinds with a window, once a peak held enough mail to matter (most actors never do).
  std::unique_ptr<PeakLines> peak_lines;
  CivilSeconds first_rejection = 0, last_rejection = 0;  // ClientIp: of its rejected recipients
  // ClientIp: hashes of the different addresses its rejected recipients named, the first
  // kMaxDistinctRejected of them (a list server posting to one deleted address is not guessing).
  static constexpr size_t kMaxDistinctRejected = 64;
  std::vector<uint32_t> rejected_addresses;
  // Notes one more; false when it was known or the list is full.
  bool note_rejected_address(uint32_t hash) {
    if (rejected_addresses.size() >= kMaxDistinctRejected) return false;
    if (std::find(rejected_addresses.begin(), rejected_addresses.end(), hash) != rejected_addresses.end()) return false;
    rejected_addresses.push_back(hash);
    return true;
  }
};

// alignas(64) and the field order keep what every counted message touches in the first
// cache line, so a lookup among hundreds of thousands of actors costs one miss, not three.
struct alignas(64) ActorStats {
  // Touched by every message: first cache line.
  uint64_t messages = 0;
  uint64_t recipients = 0;
  uint64_t bytes = 0;
  CivilSeconds first = 0, last = 0;
  std::unique_ptr<ActorExtras> extras;
  uint32_t max_recipients = 0;  // in one message
  // Sender: local or authenticated submissions. BounceRecipient: bounces other servers sent.
  // LocalUser: messages over SMTP from this host that cPanel said were this user's.
  uint32_t trusted_submissions = 0;
  uint32_t delivered = 0, deferred = 0;  // per recipient outcome
  // Touched on creation, at completion or by session-level signals.
  uint32_t failed = 0, frozen = 0;
  std::string_view key;        // in its table's key arena
  uint32_t failed_logins = 0;  // AuthAccount: set_id failures; ClientIp: failures from it
  // ClientIp: RCPT rejected as unknown; AuthAccount: the same, in its logged-in sessions;
  // BounceRecipient: outcomes in a mailbox here.
  uint32_t rejected_rcpts = 0;
  uint32_t distinct_senders = 0;  // SenderDomain
  uint32_t random_senders = 0;    // SenderDomain: random-looking local parts
  CivilSeconds first_failed_login = 0;
  // ClientIp: the account its failed logins named (its key_hash, lowercased), while they all
  // named one; kSeveralAccounts once another was named, kUnnamed once one named none. 0: none yet.
  static constexpr uint64_t kSeveralAccounts = UINT64_MAX, kUnnamed = UINT64_MAX - 1;
  uint64_t login_target = 0;
  CivilSeconds last_failed_login = 0;  // with first_failed_login: the guessing's own period

  // What a client IP's failed logins named (login_target), joined with what more of them named
  // (a target, or another slice's login_target). Order-free, so slices of the log merge: one
  // that named none makes it kUnnamed; two accounts make it kSeveralAccounts.
  static uint64_t joined_login_target(uint64_t current, uint64_t more) {
    if (current == kUnnamed || more == kUnnamed) return kUnnamed;
    if (current == 0 || current == more) return more;
    return more == 0 ? current : kSeveralAccounts;
  }

  PeakWindow* window() const { return extras && extras->window ? &*extras->window : nullptr; }
  size_t client_ip_count() const { return extras && extras->ips ? extras->ips->hashes.size() : 0; }
  CivilSeconds first_rejection() const { return extras ? extras->first_rejection : 0; }
  CivilSeconds last_rejection() const { return extras ? extras->last_rejection : 0; }
  // Different addresses among its rejected recipients, up to ActorExtras::kMaxDistinctRejected.
  size_t distinct_rejected() const { return extras ? extras->rejected_addresses.size() : 0; }
  const std::vector<std::string>& listed_ips() const;
  bool keeps_evidence() const { return extras != nullptr; }
};

class ActorTable {
 public:
  static constexpr size_t kMaxListedIps = 32;

  // window_span > 0 gives each actor a peak window; with_extras gives evidence and IP sets.
  ActorTable(ActorKind kind, int64_t window_span, bool with_extras)
      : kind_(kind), window_span_(window_span), with_extras_(with_extras || window_span > 0) {}

  // Index of the actor with this key, created on first sight (created=true then).
  uint32_t intern(std::string_view key, bool* created = nullptr) { return intern(key_hash(key), key, false, created); }
  // The same with the key's hash already computed (key_hash(key, lower)) off the engine
  // thread; `lower` stores the key lowercased. The key bytes are only read on creation.
  uint32_t intern(uint64_t hash, std::string_view key, bool lower, bool* created);
  // The hash intern() uses; `lower` gives the hash of the lowercased key.
  static uint64_t key_hash(std::string_view key, bool lower = false) { return hash_bytes(key, lower); }
  ActorStats& at(uint32_t index) { return actors_[index]; }
  // Two prefetch stages for a key hash, issued a few lines ahead of intern(): first the
  // index slot, then (once that slot has arrived) the actor's counters. Tables of hundreds
  // of thousands of actors miss the cache on nearly every lookup otherwise.
  void prefetch_slot(uint64_t hash) const { index().prefetch(hash); }
  // Returns the actor's index (UINT32_MAX when it does not exist yet) for the later stages.
  uint32_t prefetch_actor(uint64_t hash) const;
  // Stages 3 and 4, for kinds with extras: the extras block, then its peak window's tail.
  void prefetch_extras(uint32_t index) const;
  void prefetch_window_tail(uint32_t index) const;
  const ActorStats* find(std::string_view key) const;
  // Index of the actor with this key hash, if it exists.
  std::optional<uint32_t> find_index(uint64_t hash) const;
  const ChunkedVector<ActorStats>& all() const { return actors_; }
  size_t size() const { return actors_.size(); }
  ActorKind kind() const { return kind_; }

  // Each actor's key hash, by index (for merging another engine's table into this one).
  // A table loaded and never looked up since has them as loaded; else they are put in `built`.
  const std::vector<uint64_t>& hashes_by_index(std::vector<uint64_t>& built) const;
  // Text that lives as long as the table (a script's login taken from another engine's table).
  std::string_view keep_text(std::string_view text) { return keys_.store(text); }

  // The table with its actors, their windows and evidence (copied lines through `copies`).
  void save(StateWriter& w) const;
  void load(StateReader& r, EvidenceLines& copies);

  // Records the distinct client IP an account was used from (ip_hash: its key_hash).
  static void note_client_ip(ActorStats& a, std::string_view ip, uint64_t ip_hash, CivilSeconds t);

 private:
  struct Mix {
    size_t operator()(uint64_t h) const { return size_t(h ^ (h >> 31)); }
  };
  ActorKind kind_;
  int64_t window_span_;  // 0: no peak window for this kind
  bool with_extras_;
  // The index, built first from unindexed_ when the table was loaded (see load()).
  const FlatMap<uint64_t, uint32_t, Mix>& index() const {
    if (!unindexed_.empty()) build_index();
    return index_;
  }
  FlatMap<uint64_t, uint32_t, Mix>& index() {
    if (!unindexed_.empty()) build_index();
    return index_;
  }
  void build_index() const;
  // Mutable: a loaded table builds its index at its first lookup, const or not. Each table is
  // used by one thread at a time (its engine's, then the report's).
  mutable FlatMap<uint64_t, uint32_t, Mix> index_;  // 64-bit key hash -> index
  mutable std::vector<uint64_t> unindexed_;         // a loaded table's key hashes by index, until then
  mutable uint32_t scans_ = 0;                      // lookups answered from unindexed_
  StringArena keys_;
  ChunkedVector<ActorStats> actors_;  // growth never moves actors
};

}  // namespace sw::stats
