// What `serve` enforces: the [serve] section of the config, with defaults that leave an
// ordinary shop, a customer's mail client and a mailing list alone.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "queue/ip_cidr.h"

namespace sw::policy {

// The actors serve counts. Sender domains have no hold list (a domain is many people): they
// are deferred while over their limit, not held.
enum class Actor : uint8_t { AuthAccount, LocalUser, Script, Sender, SenderDomain, ClientIp };
inline constexpr size_t kActors = 6;
const char* actor_name(Actor actor);  // "auth_account", ..., "sender_domain", "client_ip"
bool parse_actor(std::string_view name, Actor* out);

struct Window {
  int64_t seconds = 3600;
  uint64_t messages = 0;    // more than this in the window: over the limit; 0 = no limit
  uint64_t recipients = 0;  // the same for recipients
};

struct Lists {
  std::vector<queue::CidrRange> ips;
  std::vector<std::string> ip_texts;  // as configured, for --check
  std::vector<std::string> senders, sender_domains, helos, accounts;  // lower-case
  bool empty() const {
    return ips.empty() && senders.empty() && sender_domains.empty() && helos.empty() && accounts.empty();
  }
};

enum class OverLimit : uint8_t { Defer, Freeze };

struct PolicyConfig {
  std::array<std::vector<Window>, kActors> limits;
  std::map<std::string, std::vector<Window>> overrides;  // "auth_account:news@x.example"
  OverLimit over_limit = OverLimit::Defer;  // SMTP; local submissions are always frozen
  bool hold_on_limit = true;                // crossing a limit holds the actor (holds/release)
  // Dictionary-attack guard, per client IP, over `dictionary_window` seconds.
  uint64_t dictionary_tarpit_after = 5;  // unknown recipients before the tarpit
  uint64_t dictionary_drop_after = 10;   // ...before the IP is dropped for dictionary_drop_seconds
  int64_t dictionary_window = 3600;
  int64_t dictionary_drop_seconds = 3600;
  // Tarpit: seconds of delay and how many tarpitted connections at once at most (each holds an
  // Exim process; keep well under smtp_accept_max).
  int tarpit_seconds = 5;
  size_t max_tarpitted = 20;
  bool helo_checks = true;
  std::vector<std::string> hostnames, local_domains;  // lower-case; this host's names
  std::vector<std::string> addresses;                 // this host's IPs
  Lists allow, deny;
  size_t max_keys = 4'000'000;  // counters kept in memory (embedded store)
};

PolicyConfig default_policy_config();
// The windows for an actor: its override, else its type's defaults.
const std::vector<Window>& windows_for(const PolicyConfig& c, Actor actor, const std::string& key);
// Multi-line text for `serve --check`.
std::string describe_policy(const PolicyConfig& c);

}  // namespace sw::policy
