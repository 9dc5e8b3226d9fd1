// Who sends: one table per actor kind, interning each actor's key once and counting what it
// did. Memory is proportional to the number of distinct actors.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/civil_time.h"
#include "stats/evidence.h"
#include "stats/peak_window.h"

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

struct ActorStats {
  std::string key;
  uint64_t messages = 0;
  uint64_t recipients = 0;
  uint64_t bytes = 0;
  uint64_t delivered = 0, deferred = 0, failed = 0, frozen = 0;  // per recipient outcome
  uint32_t max_recipients = 0;                                    // in one message
  CivilSeconds first = 0, last = 0;
  // Session-level signals, keyed on the same actor.
  uint64_t failed_logins = 0;    // AuthAccount: set_id failures; ClientIp: failures from it
  uint64_t rejected_rcpts = 0;   // ClientIp: RCPT rejected as unknown
  uint64_t distinct_senders = 0; // SenderDomain
  uint64_t random_senders = 0;   // SenderDomain: random-looking local parts
  CivilSeconds first_failed_login = 0, last_failed_login = 0;
  std::vector<std::string> client_ips;  // AuthAccount: distinct IPs it was used from (listed, capped)
  std::unordered_set<uint64_t> client_ip_hashes;  // exact distinct count past the listing cap
  std::unique_ptr<PeakWindow> window;   // kinds that can burst
  Evidence evidence;
};

class ActorTable {
 public:
  static constexpr size_t kMaxListedIps = 32;

  ActorTable(ActorKind kind, int64_t window_span) : kind_(kind), window_span_(window_span) {}

  // Index of the actor with this key, created on first sight (created=true then).
  uint32_t intern(std::string_view key, bool* created = nullptr);
  ActorStats& at(uint32_t index) { return actors_[index]; }
  const std::vector<ActorStats>& all() const { return actors_; }
  size_t size() const { return actors_.size(); }
  ActorKind kind() const { return kind_; }

  // Records the distinct client IP an account was used from.
  static void note_client_ip(ActorStats& a, std::string_view ip);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  ActorKind kind_;
  int64_t window_span_;  // 0: no peak window for this kind
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> index_;
  std::vector<ActorStats> actors_;
};

}  // namespace sw::stats
