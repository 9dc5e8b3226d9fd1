// What `serve` enforces: the [serve] section of the config, with defaults that leave an
// ordinary shop, a customer's mail client and a mailing list alone.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/ip_cidr.h"

namespace sw::config {

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
  std::vector<CidrRange> ips;
  std::vector<std::string> ip_texts;                                  // as configured, for --check
  std::vector<std::string> senders, sender_domains, helos, accounts;  // lower-case
  bool empty() const {
    return ips.empty() && senders.empty() && sender_domains.empty() && helos.empty() && accounts.empty();
  }
};

enum class OverLimit : uint8_t { Defer, Freeze };

struct ServePolicy {
  std::array<std::vector<Window>, kActors> limits;
  std::map<std::string, std::vector<Window>> overrides;  // "auth_account:news@x.example"
  OverLimit over_limit = OverLimit::Defer;               // SMTP; local submissions are always frozen
  bool hold_on_limit = true;                             // crossing a limit holds the actor (holds/release)
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
  // The embedded counter store's memory (table and busy actors; docs/serve.md): with the daemon's
  // own ~20 MB it stays under 256 MB. About 3 million quiet actors or 550,000 busy ones.
  size_t counter_memory_mb = 192;
};

ServePolicy default_serve_policy();

// The daemon around the policy: where it listens, as whom, where its counters live.
struct ServeConfig {
  std::string socket = "/run/spamwarden/serve.sock";  // Exim's readsocket; empty: none
  std::string socket_group;                           // empty: the Exim user's group
  std::string listen = "127.0.0.1:10040";             // Postfix policy (loopback only); empty: none
  std::string user;                                   // drop to this user after binding; empty: Exim's user
  std::string counters = "local";                     // "local" or "redis"
  std::string redis = "127.0.0.1:6379";               // IP:PORT or a Unix socket path (no DNS on the mail path)
  std::string redis_prefix = "spamwarden:";           // key prefix, so several fleets can share one Redis
  std::string metrics;                                // "127.0.0.1:9814"; empty: off
  // The content filter (Exim's `spam =`, spamc): the spamd protocol on a Unix socket and/or
  // loopback TCP, the model under the state directory. Empty: not served.
  std::string spamd_socket;
  std::string spamd_listen;
  // Where the content model lives: "local" (the state directory) or "redis", the fleet's
  // journal and snapshot in `redis` under `redis_prefix`, which every server follows.
  std::string content_model = "local";
  int spamd_hold_score = 15;          // an outbound actor whose message scores this much is held
  size_t spamd_max_connections = 64;  // scans at once per listener (a thread each); more are closed, Exim fails open
  // The local users whose spamc -L (TELL) teaches the model: names or uids, "*" for anyone. The
  // socket is open to every local user so Exim and spamc can scan; teaching is not.
  std::vector<std::string> spamd_tell_users = {"root"};
  // The local users whose scans may hold the actor their User header names (outbound ACLs):
  // Exim's, root and "@exim" (its own user: Debian-exim, mailnull or exim). Anyone can write a
  // User header; "*" trusts it from anyone.
  std::vector<std::string> spamd_hold_users = {"root", "@exim"};
  // The local users who may ask the Postfix policy listener (`listen`, loopback TCP, open to all
  // local users): Postfix's smtpd runs as "postfix". "*": anyone.
  std::vector<std::string> policy_users = {"root", "postfix"};
  size_t max_connections = 1024;
  int request_timeout_ms = 5000;  // a request must be complete this long after it began (slowloris)
  int idle_timeout_s = 300;       // a persistent (Postfix) connection idle this long is closed
  ServePolicy policy = default_serve_policy();
};
// The windows for an actor: its override, else its type's defaults.
const std::vector<Window>& windows_for(const ServePolicy& c, Actor actor, const std::string& key);
// Multi-line text for `serve --check`.
std::string describe_policy(const ServePolicy& c);

}  // namespace sw::config
