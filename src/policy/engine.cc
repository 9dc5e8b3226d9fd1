#include "policy/engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/text.h"

namespace sw::policy {

using proto::Action;
using proto::Decision;
using proto::Request;
using proto::Stage;

namespace {

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool ip_listed(const Lists& lists, std::string_view ip) {
  if (lists.ips.empty() || ip.empty()) return false;
  auto address = parse_ip(ip);
  if (!address) return false;
  for (const CidrRange& range : lists.ips)
    if (cidr_contains(range, *address)) return true;
  return false;
}

// Which list matched, for the decision's reason; "" when none did.
std::string listed(const Lists& l, const Request& r, const std::string& sender, const std::string& domain) {
  if (ip_listed(l, r.client_ip)) return "client_ip:" + r.client_ip;
  if (!sender.empty() && contains(l.senders, sender)) return "sender:" + sender;
  if (!domain.empty() && contains(l.sender_domains, domain)) return "sender_domain:" + domain;
  if (!r.helo.empty() && !l.helos.empty() && contains(l.helos, to_lower(r.helo))) return "helo:" + r.helo;
  if (!r.auth.empty() && !l.accounts.empty() && contains(l.accounts, to_lower(r.auth))) return "auth_account:" + r.auth;
  return "";
}

bool is_outside(const Request& r) { return !r.client_ip.empty() && !r.trusted_host && r.auth.empty(); }

std::optional<detect::ActorType> hold_type(Actor actor) {
  switch (actor) {
    case Actor::AuthAccount: return detect::ActorType::AuthAccount;
    case Actor::LocalUser: return detect::ActorType::LocalUser;
    case Actor::Script: return detect::ActorType::Script;
    case Actor::Sender: return detect::ActorType::Sender;
    case Actor::ClientIp: return detect::ActorType::ClientIp;
    case Actor::SenderDomain: return std::nullopt;
  }
  return std::nullopt;
}

std::string hold_name(Actor actor, const std::string& key) {
  auto type = hold_type(actor);
  return type ? detect::format_actor_ref({*type, key}) : std::string(actor_name(actor)) + ":" + key;
}

}  // namespace

std::string address_domain(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 >= address.size()) return "";
  return to_lower(address.substr(at + 1));
}

std::string helo_problem(const ServePolicy& c, const Request& r) {
  std::string_view helo = r.helo;
  if (helo.empty()) return "";
  if (helo.front() == '[' && helo.back() == ']') {
    std::string_view inner = helo.substr(1, helo.size() - 2);
    if (inner.substr(0, 5) == "IPv6:" || inner.substr(0, 5) == "ipv6:") inner.remove_prefix(5);
    auto literal = parse_ip(inner);
    if (!literal) return "HELO " + std::string(helo) + " is not an address literal";
    if (contains(c.addresses, inner) || inner == r.interface_ip) return "HELO " + std::string(helo) + " is our address";
    auto client = parse_ip(r.client_ip);
    if (!client || client->bytes != literal->bytes) return "HELO " + std::string(helo) + " is not the client's address";
    return "";
  }
  if (parse_ip(helo)) return "HELO " + std::string(helo) + " is a bare IP address";
  std::string name = to_lower(helo);
  if (contains(c.hostnames, name)) return "HELO " + std::string(helo) + " is our host name";
  if (r.helo_is_local_domain || contains(c.local_domains, name))
    return "HELO " + std::string(helo) + " is one of our domains";
  if (name.find('.') == std::string::npos) return "HELO " + std::string(helo) + " has no dot";
  return "";
}

Engine::Engine(ServePolicy config, CounterStore* shared, EmbeddedCounterStore* local, HoldSink hold, Log log)
    : config_(std::move(config)), shared_(shared), local_(local), hold_(std::move(hold)), log_(std::move(log)) {}

void Engine::set_config(ServePolicy config) { config_ = std::move(config); }

void Engine::set_held(std::unordered_set<std::string> held) {
  for (const std::string& actor : held_)
    if (!held.count(actor)) ++generation_[actor];
  held_ = std::move(held);
}

void Engine::decide(const Request& r, int64_t now_ms, Decision* out) {
  out->clear();
  ++counts_.requests;
  if (r.stage == Stage::Other) return finish(out);
  sender_.assign(r.sender);
  for (char& c : sender_) c = char(std::tolower((unsigned char)c));
  domain_ = address_domain(sender_);
  if (check_lists(r, out)) return finish(out);
  if (allowed(r)) return finish(out);
  if (check_held(r, out) || check_dictionary(r, now_ms, out) || check_helo(r, out) || check_rates(r, now_ms, out))
    return finish(out);
  finish(out);
}

void Engine::finish(Decision* out) {
  ++counts_.actions[size_t(out->action)];
  if (out->action != Action::Dunno) ++counts_.checks[out->check];
}

bool Engine::check_lists(const Request& r, Decision* out) {
  if (config_.deny.empty()) return false;
  std::string which = listed(config_.deny, r, sender_, domain_);
  if (which.empty()) return false;
  out->action = r.stage == Stage::NotSmtp ? Action::Freeze : Action::Reject;
  out->check = "deny_list";
  out->actor = which;
  return true;
}

bool Engine::allowed(const Request& r) const {
  return !config_.allow.empty() && !listed(config_.allow, r, sender_, domain_).empty();
}

Action Engine::over_limit_action(const Request& r) const {
  if (r.stage == Stage::NotSmtp || config_.over_limit == OverLimit::Freeze) {
    // Exim can freeze only from MAIL on; before that, and at Postfix's CONNECT/HELO, defer.
    if (r.stage == Stage::Connect || r.stage == Stage::Helo) return Action::Defer;
    return Action::Freeze;
  }
  return Action::Defer;
}

bool Engine::check_held(const Request& r, Decision* out) {
  if (held_.empty()) return false;
  auto held = [&](detect::ActorType type, const std::string& key) {
    if (key.empty()) return false;
    actor_.assign(detect::actor_type_name(type)).append(":").append(key);
    return held_.count(actor_) > 0;
  };
  bool found = held(detect::ActorType::ClientIp, r.client_ip);
  if (!found && r.stage != Stage::Connect && r.stage != Stage::Helo && r.stage != Stage::UnknownRcpt) {
    key_ = to_lower(r.auth);
    found = held(detect::ActorType::AuthAccount, key_) || held(detect::ActorType::LocalUser, r.local_user) ||
            held(detect::ActorType::Script, r.script) ||
            // An outside sender's address is anybody's to forge: only submissions are held by it.
            (!is_outside(r) && held(detect::ActorType::Sender, sender_));
  }
  if (!found) return false;
  out->action = over_limit_action(r);
  out->check = "held";
  out->actor = actor_;
  out->detail = "until spamwarden release";
  return true;
}

bool Engine::tarpit(int64_t now_ms, Decision* out) {
  while (!tarpits_.empty() && tarpits_.front() <= now_ms) tarpits_.pop_front();
  if (tarpits_.size() >= config_.max_tarpitted || config_.tarpit_seconds <= 0) {
    ++counts_.tarpit_cap_reached;
    return false;
  }
  tarpits_.push_back(now_ms + int64_t(config_.tarpit_seconds) * 1000);
  out->action = Action::Delay;
  out->delay_seconds = config_.tarpit_seconds;
  return true;
}

bool Engine::check_dictionary(const Request& r, int64_t now_ms, Decision* out) {
  if (!is_outside(r) || config_.dictionary_drop_after == 0) return false;
  if (r.stage == Stage::Data || r.stage == Stage::NotSmtp) return false;
  if (auto it = dropped_until_.find(r.client_ip); it != dropped_until_.end()) {
    if (it->second > now_ms) {
      out->action = Action::Drop;
      out->check = "dictionary";
      out->actor = "client_ip:" + r.client_ip;
      out->detail = fmt::format("dropped for {}s after {} unknown recipients", config_.dictionary_drop_seconds,
                                config_.dictionary_drop_after);
      return true;
    }
    dropped_until_.erase(it);
  }
  key_.assign("dict/").append(r.client_ip);
  int64_t window_ms = config_.dictionary_window * 1000;
  std::optional<uint64_t> unknown =
      add(key_, r.stage == Stage::UnknownRcpt ? 1 : 0, now_ms, window_ms);  // 0: a read, shared in a fleet
  if (!unknown || *unknown < config_.dictionary_tarpit_after) return false;
  out->check = "dictionary";
  out->actor = "client_ip:" + r.client_ip;
  if (*unknown >= config_.dictionary_drop_after) {
    if (dropped_until_.size() > 100000) dropped_until_.clear();  // bounded; the counters still hold
    dropped_until_[r.client_ip] = now_ms + config_.dictionary_drop_seconds * 1000;
    out->action = Action::Drop;
    out->detail = fmt::format("{} unknown recipients in {}s (drop after {})", *unknown, config_.dictionary_window,
                              config_.dictionary_drop_after);
    return true;
  }
  if (!tarpit(now_ms, out)) {
    out->check.clear();
    out->actor.clear();
    return false;
  }
  out->detail = fmt::format("{} unknown recipients in {}s (tarpit after {})", *unknown, config_.dictionary_window,
                            config_.dictionary_tarpit_after);
  return true;
}

bool Engine::check_helo(const Request& r, Decision* out) {
  // At MAIL, not HELO: only then is it known whether the client authenticated (a mail
  // client's HELO is often a bare machine name).
  if (!config_.helo_checks || r.stage != Stage::Mail || !is_outside(r)) return false;
  std::string problem = helo_problem(config_, r);
  if (problem.empty()) return false;
  out->action = Action::Reject;
  out->check = "helo";
  out->actor = "client_ip:" + r.client_ip;
  out->detail = std::move(problem);
  return true;
}

// Whether the shared store answered; says once when counting falls back to this server's own
// counters and once when the shared ones answer again.
bool Engine::shared_answered(bool answered) {
  if (answered) {
    if (counts_.using_fallback) {
      counts_.using_fallback = false;
      log_("shared counters reachable again: counting there");
    }
    return true;
  }
  ++counts_.shared_store_failures;
  if (!counts_.using_fallback) {
    counts_.using_fallback = true;
    log_("shared counters unreachable: counting locally on this server until they answer again");
  }
  return false;
}

std::optional<uint64_t> Engine::add(const std::string& key, uint64_t amount, int64_t now_ms, int64_t window_ms) {
  if (shared_ != local_) {
    std::optional<uint64_t> n = shared_->add(key, amount, now_ms, window_ms);
    if (shared_answered(n.has_value())) return n;
  }
  return local_->add(key, amount, now_ms, window_ms);
}

bool Engine::count(const std::string& actor, uint64_t recipients, int64_t now_ms) {
  uint32_t rcpts = uint32_t(std::min<uint64_t>(recipients, UINT32_MAX));
  if (shared_ != local_ && shared_answered(shared_->count(actor, 1, rcpts, now_ms, windows_ms_, sums_))) return true;
  return local_->count(actor, 1, rcpts, now_ms, windows_ms_, sums_);
}

bool Engine::count_actor(Actor actor, const std::string& key, uint64_t recipients, int64_t now_ms, Decision* out) {
  if (key.empty()) return false;
  const std::vector<Window>& windows = windows_for(config_, actor, key);
  windows_ms_.clear();
  for (const Window& w : windows)
    if (w.messages || w.recipients) windows_ms_.push_back(w.seconds * 1000);
  if (windows_ms_.empty()) return false;
  key_.assign(actor_name(actor)).append(":").append(key);
  if (!generation_.empty())
    if (auto it = generation_.find(hold_name(actor, key)); it != generation_.end())
      key_.append("#").append(std::to_string(it->second));
  sums_.assign(windows_ms_.size(), {});
  // Every window counts the message, in one call: one slot per actor in the embedded store.
  if (!count(key_, recipients, now_ms)) sums_.assign(windows_ms_.size(), {});
  bool over = false;
  size_t i = 0;
  for (const Window& w : windows) {
    if (!w.messages && !w.recipients) continue;
    const WindowSums& sums = sums_[i++];
    if (w.messages && sums.messages > w.messages)
      out->detail = fmt::format("{} messages in {}s (limit {})", sums.messages, w.seconds, w.messages);
    else if (w.recipients && sums.recipients > w.recipients)
      out->detail = fmt::format("{} recipients in {}s (limit {})", sums.recipients, w.seconds, w.recipients);
    else continue;
    over = true;
    break;
  }
  if (!over) return false;
  out->check = "rate_limit";
  out->actor = std::string(actor_name(actor)) + ":" + key;
  if (auto type = hold_type(actor); type && config_.hold_on_limit && hold_) {
    detect::ActorRef ref{*type, key};
    std::string name = detect::format_actor_ref(ref);
    if (held_.insert(name).second) {
      ++counts_.holds;
      hold_(ref, out->detail);
    }
    out->actor = name;
  }
  return true;
}

bool Engine::check_rates(const Request& r, int64_t now_ms, Decision* out) {
  if (r.stage != Stage::Data && r.stage != Stage::NotSmtp) return false;
  uint64_t rcpts = std::max<uint64_t>(r.recipients, 1);
  bool outbound = !is_outside(r);  // authenticated, a relay host or a local submission
  bool over = false;
  if (r.stage == Stage::Data && !r.auth.empty()) {
    std::string account = to_lower(r.auth);
    over |= count_actor(Actor::AuthAccount, account, rcpts, now_ms, out);
  }
  if (r.stage == Stage::NotSmtp) {
    over |= !over && count_actor(Actor::LocalUser, r.local_user, rcpts, now_ms, out);
    if (!over) over |= count_actor(Actor::Script, r.script, rcpts, now_ms, out);
  }
  // Inbound mail's sender is whatever the client wrote: only submissions count by sender.
  if (outbound && !over) over |= count_actor(Actor::Sender, sender_, rcpts, now_ms, out);
  if (outbound && !over) over |= count_actor(Actor::SenderDomain, domain_, rcpts, now_ms, out);
  if (outbound && !over && r.stage == Stage::Data)
    over |= count_actor(Actor::ClientIp, r.client_ip, rcpts, now_ms, out);
  if (!over) return false;
  out->action = over_limit_action(r);
  return true;
}

}  // namespace sw::policy
