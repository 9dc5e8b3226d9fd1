#include "config/serve_config.h"

#include <fmt/format.h>

namespace sw::config {

namespace {
constexpr std::array<const char*, kActors> kActorNames = {"auth_account", "local_user",    "script",
                                                          "sender",       "sender_domain", "client_ip"};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "-" : out;
}

std::string describe_windows(const std::vector<Window>& windows) {
  std::string out;
  for (const Window& w : windows)
    out +=
        fmt::format("{}{}s: {} messages, {} recipients", out.empty() ? "" : "; ", w.seconds,
                    w.messages ? std::to_string(w.messages) : "-", w.recipients ? std::to_string(w.recipients) : "-");
  return out.empty() ? "no limit" : out;
}

std::string describe_lists(const char* name, const Lists& l) {
  return fmt::format("{}: ips {}; senders {}; sender domains {}; helos {}; accounts {}\n", name, join(l.ip_texts),
                     join(l.senders), join(l.sender_domains), join(l.helos), join(l.accounts));
}
}  // namespace

const char* actor_name(Actor actor) { return kActorNames[size_t(actor)]; }

bool parse_actor(std::string_view name, Actor* out) {
  for (size_t i = 0; i < kActors; ++i)
    if (name == kActorNames[i]) {
      *out = Actor(i);
      return true;
    }
  return false;
}

ServePolicy default_serve_policy() {
  ServePolicy c;
  // A person, a shop's order mails or a contact form stay far below; a hijacked account or a
  // script sending spam passes the minute's limit within its first seconds.
  std::vector<Window> submitter = {{60, 60, 300}, {3600, 500, 2500}, {86400, 3000, 15000}};
  c.limits[size_t(Actor::AuthAccount)] = submitter;
  c.limits[size_t(Actor::LocalUser)] = submitter;
  c.limits[size_t(Actor::Script)] = submitter;
  c.limits[size_t(Actor::Sender)] = {{60, 120, 600}, {3600, 1000, 5000}, {86400, 6000, 30000}};
  c.limits[size_t(Actor::SenderDomain)] = {{60, 300, 1500}, {3600, 3000, 15000}};
  c.limits[size_t(Actor::ClientIp)] = {{60, 120, 600}, {3600, 1000, 5000}};
  return c;
}

const std::vector<Window>& windows_for(const ServePolicy& c, Actor actor, const std::string& key) {
  if (!c.overrides.empty()) {
    std::string name = std::string(actor_name(actor)) + ":" + key;
    if (auto it = c.overrides.find(name); it != c.overrides.end()) return it->second;
  }
  return c.limits[size_t(actor)];
}

std::string describe_policy(const ServePolicy& c) {
  std::string out = "rate limits (more than N in the window is over):\n";
  for (size_t i = 0; i < kActors; ++i)
    out += fmt::format("  {:<14} {}\n", kActorNames[i], describe_windows(c.limits[i]));
  for (const auto& [actor, windows] : c.overrides) out += fmt::format("  {} {}\n", actor, describe_windows(windows));
  out += fmt::format("over the limit: {} (local submissions: freeze); hold the actor: {}\n",
                     c.over_limit == OverLimit::Defer ? "defer" : "freeze", c.hold_on_limit ? "yes" : "no");
  out += fmt::format(
      "dictionary guard: tarpit after {} unknown recipients, drop after {} (per client IP in {}s) for {}s\n",
      c.dictionary_tarpit_after, c.dictionary_drop_after, c.dictionary_window, c.dictionary_drop_seconds);
  out += fmt::format("tarpit: {}s, at most {} at once\n", c.tarpit_seconds, c.max_tarpitted);
  out += fmt::format("helo checks: {} (hostnames {}; addresses {}; local domains {})\n", c.helo_checks ? "on" : "off",
                     join(c.hostnames), join(c.addresses), join(c.local_domains));
  out += fmt::format("embedded counters: at most {} MB\n", c.counter_memory_mb);
  out += describe_lists("allow (skip checks, never relay)", c.allow);
  out += describe_lists("deny", c.deny);
  return out;
}

}  // namespace sw::config
