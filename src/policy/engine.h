// The policy daemon's decisions, independent of the protocol that asked. Single-threaded: the
// daemon's event loop owns the engine.
//
// Order of checks: deny lists (reject), allow lists (skip everything below; never an accept),
// held actors (defer or freeze; holds from serve and from watch), the dictionary guard (drop
// or tarpit per client IP), HELO checks at MAIL (outside clients), then the rate limits,
// counted once per message at the DATA stage (Exim: predata, with $recipients_count) and at
// local submission.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "detect/actor_type.h"
#include "policy/counter_store.h"
#include "policy/embedded_counter_store.h"
#include "config/serve_config.h"
#include "proto/request.h"

namespace sw::policy {

using config::Actor;
using config::actor_name;
using config::default_serve_policy;
using config::kActors;
using config::Lists;
using config::OverLimit;
using config::ServePolicy;
using config::Window;
using config::windows_for;

struct EngineCounts {
  std::array<uint64_t, proto::kActions> actions{};
  std::unordered_map<std::string, uint64_t> checks;  // check name -> non-neutral decisions
  uint64_t requests = 0, holds = 0, shared_store_failures = 0, tarpit_cap_reached = 0;
  bool using_fallback = false;
};

class Engine {
 public:
  // Called when an actor crosses a limit and is to be held (store + hold lists).
  using HoldSink = std::function<void(const detect::ActorRef& actor, const std::string& reason)>;
  using Log = std::function<void(const std::string&)>;

  // `shared` is the configured counter store (the local one, or Redis); `local` takes over
  // whenever `shared` fails. Both must outlive the engine.
  Engine(ServePolicy config, CounterStore* shared, EmbeddedCounterStore* local, HoldSink hold, Log log);

  void decide(const proto::Request& request, int64_t now_ms, proto::Decision* out);

  void set_config(ServePolicy config);  // SIGHUP
  const ServePolicy& config() const { return config_; }
  // The active holds (serve's and watch's), "type:key" as format_actor_ref writes them.
  // Actors that left the set were released: their counters start afresh (else the next
  // message would find them still over the limit and hold them again).
  void set_held(std::unordered_set<std::string> held);
  bool is_held(const std::string& actor) const { return held_.count(actor) > 0; }
  const EngineCounts& counts() const { return counts_; }

 private:
  bool check_lists(const proto::Request& r, proto::Decision* out);
  bool allowed(const proto::Request& r) const;
  bool check_held(const proto::Request& r, proto::Decision* out);
  bool check_dictionary(const proto::Request& r, int64_t now_ms, proto::Decision* out);
  bool check_helo(const proto::Request& r, proto::Decision* out);
  bool check_rates(const proto::Request& r, int64_t now_ms, proto::Decision* out);
  bool count_actor(Actor actor, const std::string& key, uint64_t recipients, int64_t now_ms, proto::Decision* out);
  bool shared_answered(bool answered);
  std::optional<uint64_t> add(const std::string& key, uint64_t amount, int64_t now_ms, int64_t window_ms);
  // One message of `actor` in every window of windows_ms_; the sums land in sums_.
  bool count(const std::string& actor, uint64_t recipients, int64_t now_ms);
  bool tarpit(int64_t now_ms, proto::Decision* out);
  proto::Action over_limit_action(const proto::Request& r) const;
  void finish(proto::Decision* out);

  ServePolicy config_;
  CounterStore* shared_;
  EmbeddedCounterStore* local_;
  HoldSink hold_;
  Log log_;
  std::unordered_set<std::string> held_;
  std::unordered_map<std::string, uint32_t> generation_;    // actor -> releases seen (part of its counter keys)
  std::unordered_map<std::string, int64_t> dropped_until_;  // client IP -> ms
  std::deque<int64_t> tarpits_;                             // end times of delays handed out
  EngineCounts counts_;
  // Scratch strings kept between requests: the hot path allocates nothing once they have grown.
  std::string key_, actor_, domain_, sender_;
  std::vector<int64_t> windows_ms_;
  std::vector<WindowSums> sums_;
};

// The domain of an address ("" if it has none), lower-cased.
std::string address_domain(std::string_view address);
// What is wrong with an outside client's HELO, or "" if nothing.
std::string helo_problem(const ServePolicy& config, const proto::Request& r);

}  // namespace sw::policy
