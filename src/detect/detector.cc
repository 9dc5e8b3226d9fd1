#include "detect/detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "base/localpart.h"
#include "base/text.h"
#include "eximlog/line_parser.h"

namespace sw::detect {

using eximlog::LineKind;
using eximlog::LogLine;

namespace {

// Windows count in the log's milliseconds: without them a 2 s window can trip a second late.
int64_t time_ms(const LogLine& l) { return l.time * 1000 + l.millis; }

constexpr int64_t kHour = 3600;
constexpr int64_t kTenMinutes = 600;
constexpr size_t kMaxDistinctTracked = 4096;  // per actor: domains / IPs remembered for an hour
constexpr size_t kMaxInflight = 200000;       // messages awaiting their outcome lines

// Values seen within the last hour, capped; counts distinct ones.
struct RecentSet {
  std::unordered_map<std::string, CivilSeconds> last_seen;
  CivilSeconds newest = 0;
  void add(std::string_view value, CivilSeconds time) {
    follow_clock(time);
    if (last_seen.size() >= kMaxDistinctTracked) prune(time);
    if (last_seen.size() < kMaxDistinctTracked) last_seen[std::string(value)] = time;
  }
  size_t count(CivilSeconds time) {
    follow_clock(time);
    prune(time);
    return last_seen.size();
  }
  // The clock gone back ten minutes or more (daylight saving time ending), as the hour's
  // sliding windows take it: the set starts again, rather than keep the first hour's values
  // for two hours.
  void follow_clock(CivilSeconds time) {
    if (newest != 0 && time <= newest - 600) last_seen.clear(), newest = 0;
    newest = std::max(newest, time);
  }
  void prune(CivilSeconds time) {
    std::erase_if(last_seen, [&](const auto& e) { return e.second <= time - kHour; });
  }
};

std::string describe_scale(int64_t seconds) {
  if (seconds % 86400 == 0) return fmt::format("{}d", seconds / 86400);
  if (seconds % 3600 == 0) return fmt::format("{}h", seconds / 3600);
  if (seconds % 60 == 0) return fmt::format("{}min", seconds / 60);
  return fmt::format("{}s", seconds);
}

}  // namespace

struct Detector::Actor {
  ActorRef ref;
  const ActorLimits* limits = nullptr;
  std::vector<SlidingWindow> scales;          // messages / recipients, one per limit scale
  SlidingWindow bulk{kHour};                  // messages with many recipients
  SlidingWindow random_senders{kTenMinutes};  // messages / those with random local parts
  SlidingWindow outcomes{kHour};              // delivery outcomes / deferrals+bounces
  SlidingWindow failed_logins{kHour};
  SlidingWindow recent{kTenMinutes};  // messages / recipients, for the failed-login rule
  RecentSet domains, ips;
  SubmitterTally submitters;  // scripts: the logins of the submissions attributed to them
  CivilSeconds last_seen = 0;
  bool tripped = false;
};

Detector::Detector(DetectorLimits limits) : limits_(std::move(limits)), cwd_slots_(kCwdSlots) {}
Detector::~Detector() = default;

Detector::Actor* Detector::find(const ActorRef& ref) {
  auto& table = tables_[size_t(ref.type)];
  auto it = table.find(ref.key);
  return it == table.end() ? nullptr : it->second.get();
}

Detector::Actor* Detector::touch(ActorType type, std::string_view key, CivilSeconds time) {
  if (key.empty() || limits_.allow[size_t(type)].count(std::string(key))) return nullptr;
  auto& slot = tables_[size_t(type)][std::string(key)];
  if (!slot) {
    slot = std::make_unique<Actor>();
    slot->ref = ActorRef{type, std::string(key)};
    slot->limits = &limits_for(limits_, type, slot->ref.key);
    for (const ScaleLimit& s : slot->limits->scales) slot->scales.emplace_back(s.seconds);
  }
  slot->last_seen = std::max(slot->last_seen, time);
  return slot.get();
}

void Detector::add(const LogLine& l, std::vector<Trip>* trips, std::string_view raw) {
  ++counts_.lines;
  switch (l.kind) {
    case LineKind::Unparsed: ++counts_.unparsed; break;
    case LineKind::Arrival: on_arrival(l, trips, raw); break;
    case LineKind::Delivery:
    case LineKind::Defer:
    case LineKind::Bounce: on_outcome(l, trips); break;
    case LineKind::Completed: inflight_.erase(std::string(l.message_id)); break;
    case LineKind::AuthFailure: on_auth_failure(l); break;
    case LineKind::Cwd: on_cwd(l); break;
    case LineKind::CpanelIdentification: on_identification(l, trips); break;
    default: break;
  }
}

void Detector::on_cwd(const LogLine& l) {
  if (!eximlog::is_submission_cwd(l.cwd, l.args)) return;
  uint32_t token = next_cwd_token_++;
  if (token == eximlog::CwdMatcher::kNone) token = next_cwd_token_++;
  CwdSlot& slot = cwd_slots_[token % kCwdSlots];
  slot.token = token;
  slot.dir.assign(l.cwd);
  cwd_.add(l.time, l.pid, token, l.cwd);
}

void Detector::on_arrival(const LogLine& l, std::vector<Trip>* trips, std::string_view raw) {
  ++counts_.arrivals;
  // A bounce Exim made (R=, or handed in by its own user) or another server's is nobody's burst.
  // A user's script or an account giving an empty sender (sendmail -f '<>', MAIL FROM:<>, which
  // anyone may) is still theirs.
  bool local = is_local_submission(l);
  bool users = (local && !eximlog::is_exim_login(l.ident) && l.router.empty()) || !l.auth_id.empty();
  if (l.address.empty() && !users) return;
  std::vector<Actor*> actors;
  if (local) {
    uint32_t token = cwd_.take(l.time, l.pid, l.ident);
    if (token != eximlog::CwdMatcher::kNone && cwd_slots_[token % kCwdSlots].token == token)
      if (Actor* a = touch(ActorType::Script, cwd_slots_[token % kCwdSlots].dir, l.time)) {
        if (!eximlog::is_exim_login(l.ident)) a->submitters.add(l.ident);
        actors.push_back(a);
      }
    if (!eximlog::is_exim_login(l.ident)) actors.push_back(touch(ActorType::LocalUser, l.ident, l.time));
  }
  // A script talking SMTP to 127.0.0.1 on cPanel: its user, and the sender it chose (which
  // Exim's MAIL ACL holds for such connections; it cannot see the user then).
  std::string identified = identified_.take(l, raw);
  if (!eximlog::names_a_user(identified)) identified.clear();  // Mailman: no user's, never held
  if (!identified.empty()) actors.push_back(touch(ActorType::LocalUser, identified, l.time));
  bool authenticated = !l.auth_id.empty();
  if (authenticated) {
    Actor* account = touch(ActorType::AuthAccount, to_lower(l.auth_id), l.time);
    if (account && !l.host_ip.empty()) account->ips.add(l.host_ip, l.time);
    actors.push_back(account);
    actors.push_back(touch(ActorType::ClientIp, l.host_ip, l.time));
  }
  bool named_sender = (local && !eximlog::is_exim_login(l.ident)) || authenticated || !identified.empty();
  if (named_sender && !l.address.empty()) actors.push_back(touch(ActorType::Sender, to_lower(l.address), l.time));
  std::erase(actors, nullptr);
  count_arrival(l, actors, trips);
}

// cPanel names the user of mail over SMTP from this host when it routes it, just after its
// arrival: the arrival is counted again now, for the user and the sender they chose.
void Detector::on_identification(const LogLine& l, std::vector<Trip>* trips) {
  eximlog::SenderIdentities::Entry kept;
  if (identified_.note(l, &kept) != eximlog::SenderIdentities::Noted::kClaims || kept.user.empty()) return;
  if (!eximlog::names_a_user(l.ident)) return;  // Mailman: no user's, never held
  LogLine arrival;
  eximlog::parse_line(kept.user, arrival);
  if (arrival.kind != LineKind::Arrival || arrival.message_id != l.message_id) return;
  arrival.time = l.time, arrival.millis = l.millis;  // counted now: windows take no earlier times
  std::vector<Actor*> actors{touch(ActorType::LocalUser, l.ident, l.time)};
  if (!arrival.address.empty()) actors.push_back(touch(ActorType::Sender, to_lower(arrival.address), l.time));
  std::erase(actors, nullptr);
  count_arrival(arrival, actors, trips);
}

void Detector::count_arrival(const LogLine& l, const std::vector<Actor*>& actors, std::vector<Trip>* trips) {
  uint32_t rcpts = uint32_t(eximlog::for_each_recipient(l.recipients, [](std::string_view) {}));
  if (rcpts == 0) rcpts = 1;  // without +received_recipients, count the message once
  Inflight inflight;
  size_t first_trip = trips->size();
  for (Actor* a : actors) {
    count_message(*a, l, rcpts, trips);
    inflight.actors.push_back(a->ref);
  }
  for (size_t i = first_trip; i < trips->size(); ++i)
    for (const ActorRef& ref : inflight.actors)
      if (!(ref == (*trips)[i].actor)) (*trips)[i].companions.push_back(ref);
  if (!early_.empty() && !l.message_id.empty())
    early_.claim(eximlog::message_key(l.message_id), l.time, [&](const eximlog::EarlyOutcomes::Entry&) {
      for (Actor* a : actors) a->outcomes.add(time_ms(l), 1, 0);
    });
  if (actors.empty() || l.message_id.empty()) return;
  std::string id(l.message_id);
  if (auto known = inflight_.find(id); known != inflight_.end()) {  // counted at its arrival for others
    for (const ActorRef& ref : inflight.actors) known->second.actors.push_back(ref);
    return;
  }
  // Bounded whatever the log holds: past the cap the oldest (most likely never Completed,
  // e.g. the log was cut) are forgotten.
  while (inflight_order_.size() >= kMaxInflight) {
    inflight_.erase(inflight_order_.front().second);
    inflight_order_.pop_front();
  }
  inflight_order_.emplace_back(l.time, id);
  inflight_[id] = std::move(inflight);
}

void Detector::count_message(Actor& a, const LogLine& l, uint32_t rcpts, std::vector<Trip>* trips) {
  ++counts_.messages_by_type[size_t(a.ref.type)];
  int64_t ms = time_ms(l);
  for (SlidingWindow& w : a.scales) w.add(ms, 1, rcpts);
  a.recent.add(ms, 1, rcpts);
  if (rcpts >= limits_.signals.many_recipients) a.bulk.add(ms, 1, 0);
  size_t at = l.address.rfind('@');
  bool random = at != std::string_view::npos && looks_random_localpart(l.address.substr(0, at));
  a.random_senders.add(ms, 1, random ? 1 : 0);
  eximlog::for_each_recipient(l.recipients, [&](std::string_view r) {
    std::string_view d = domain_of(r);
    if (!d.empty()) a.domains.add(d, l.time);
  });
  check(a, l.time, ms, trips);
}

void Detector::check(Actor& a, CivilSeconds t, int64_t ms, std::vector<Trip>* trips) {
  if (a.tripped) return;
  for (size_t i = 0; i < a.scales.size(); ++i) {
    const ScaleLimit& lim = a.limits->scales[i];
    WindowCounts c = a.scales[i].totals(ms);
    std::string scale = describe_scale(lim.seconds);
    if (lim.messages && c.first > lim.messages)
      return trip(a, t, fmt::format("{} messages in {} (limit {})", c.first, scale, lim.messages), trips);
    if (lim.recipients && c.second > lim.recipients)
      return trip(a, t, fmt::format("{} recipients in {} (limit {})", c.second, scale, lim.recipients), trips);
  }
  const SignalLimits& s = limits_.signals;
  if (a.limits->domains_per_hour && a.domains.count(t) > a.limits->domains_per_hour)
    return trip(a, t,
                fmt::format("{} recipient domains in 1h (limit {})", a.domains.count(t), a.limits->domains_per_hour),
                trips);
  if (uint64_t bulk = a.bulk.totals(ms).first; s.many_recipient_messages && bulk > s.many_recipient_messages)
    return trip(a, t,
                fmt::format("{} messages with {}+ recipients in 1h (limit {})", bulk, s.many_recipients,
                            s.many_recipient_messages),
                trips);
  if (a.ref.type == ActorType::AuthAccount) {
    if (size_t ips = a.ips.count(t); s.account_ips && ips > s.account_ips)
      return trip(a, t, fmt::format("account used from {} client IPs in 1h (limit {})", ips, s.account_ips), trips);
    uint64_t failures = a.failed_logins.totals(ms).first;
    uint64_t recent = a.recent.totals(ms).second;
    if (s.failed_logins && failures >= s.failed_logins && recent > s.after_failures_recipients)
      return trip(a, t, fmt::format("{} recipients in 10min after {} failed logins", recent, failures), trips);
  }
  WindowCounts r = a.random_senders.totals(ms);
  if (s.random_sender_min && r.first >= s.random_sender_min &&
      double(r.second) >= s.random_sender_share * double(r.first))
    return trip(a, t, fmt::format("{} of {} messages in 10min from random-looking senders", r.second, r.first), trips);
  WindowCounts o = a.outcomes.totals(ms);
  if (s.fail_share_min && o.first >= s.fail_share_min && double(o.second) >= s.fail_share * double(o.first))
    return trip(a, t, fmt::format("{} of {} deliveries in 1h deferred or bounced", o.second, o.first), trips);
}

void Detector::trip(Actor& a, CivilSeconds time, std::string reason, std::vector<Trip>* trips) {
  a.tripped = true;
  ++counts_.trips;
  RelatedUser related;
  if (a.ref.type == ActorType::Script) related = decide_related_user(a.ref.key, a.submitters);
  trips->push_back(Trip{a.ref, std::move(reason), std::move(related.user), time, std::move(related.note), {}});
}

void Detector::on_outcome(const LogLine& l, std::vector<Trip>* trips) {
  if (l.message_id.empty()) return;
  if (l.kind == LineKind::Delivery && l.delivery == eximlog::DeliveryFlag::Suppressed) return;
  auto it = inflight_.find(std::string(l.message_id));
  if (it == inflight_.end()) {
    if (eximlog::is_early_outcome(l)) early_.hold(eximlog::message_key(l.message_id), l.time, {});
    return;
  }
  bool failed = l.kind != LineKind::Delivery;
  for (const ActorRef& ref : it->second.actors)
    if (Actor* a = find(ref)) {
      a->outcomes.add(time_ms(l), 1, failed ? 1 : 0);
      if (failed) check(*a, l.time, time_ms(l), trips);
    }
}

void Detector::on_auth_failure(const LogLine& l) {
  if (l.auth_id.empty()) return;
  if (Actor* a = touch(ActorType::AuthAccount, to_lower(l.auth_id), l.time)) a->failed_logins.add(time_ms(l), 1, 0);
}

void Detector::expire(CivilSeconds now) {
  for (auto& table : tables_)
    std::erase_if(table, [&](const auto& e) {
      return !e.second->tripped && e.second->last_seen < now - limits_.idle_expiry_seconds;
    });
  while (!inflight_order_.empty() && inflight_order_.front().first < now - kHour) {
    inflight_.erase(inflight_order_.front().second);
    inflight_order_.pop_front();
  }
}

void Detector::forget(const ActorRef& actor) { tables_[size_t(actor.type)].erase(actor.key); }

void Detector::mark_tripped(const ActorRef& actor) {
  if (Actor* a = touch(actor.type, actor.key, 0)) a->tripped = true;
}

size_t Detector::active_actors() const {
  size_t n = 0;
  for (const auto& table : tables_) n += table.size();
  return n;
}

}  // namespace sw::detect
