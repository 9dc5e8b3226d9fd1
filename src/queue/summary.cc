#include "queue/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/localpart.h"
#include "eximlog/log_line.h"

namespace sw::queue {
namespace {

constexpr size_t kMaxUnreadableListed = 1000;
constexpr size_t kMaxRandomLocalPartsKept = 1000;  // enough to prove the pattern
// Bounces made here whose msglogs may be read for one address (bounce_mailboxes.h): a
// mailbox here shows in each of them.
constexpr size_t kMsglogProbes = 8;

void merge_maps(ActorMap& into, const ActorMap& from, size_t capacity) {
  for (const auto& [key, count] : from) {
    ActorCount& target = into[key];
    target.messages += count.messages;
    target.recipients += count.recipients;
    target.frozen += count.frozen;
    target.from_elsewhere += count.from_elsewhere;
    target.mailbox_here |= count.mailbox_here;
    target.moved_frozen += count.moved_frozen;
    target.made_here.merge(count.made_here, kMsglogProbes);
    target.ids.merge(count.ids, capacity);
  }
}

std::vector<ActorRow> top_rows(const ActorMap& map, size_t top_n) {
  std::vector<ActorRow> rows;
  rows.reserve(map.size());
  for (const auto& [key, count] : map) rows.push_back({key, count.messages, count.recipients, count.frozen, ""});
  auto order = [](const ActorRow& a, const ActorRow& b) {
    if (a.messages != b.messages) return a.messages > b.messages;
    if (a.recipients != b.recipients) return a.recipients > b.recipients;
    return a.key < b.key;
  };
  size_t keep = std::min(top_n, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + long(keep), rows.end(), order);
  rows.resize(keep);
  return rows;
}

// "kind:actor" keys are split back for findings.
std::pair<std::string, std::string> split_kind(const std::string& key) {
  size_t colon = key.find(':');
  return {key.substr(0, colon), key.substr(colon + 1)};
}

uint64_t relative_floor(uint64_t total, double share, uint64_t floor) {
  return std::max<uint64_t>(floor, uint64_t(std::ceil(double(total) * share)));
}

void find_many_recipients(const SummaryAccumulator& s, const Thresholds& t, std::vector<Finding>& out) {
  for (const auto& [key, count] : s.many_recipient_by_actor) {
    auto [kind, actor] = split_kind(key);
    out.push_back({"many_recipients", kind, actor, count.messages, count.recipients,
                   fmt::format("{} message(s) with {}+ pending recipients each ({} recipients) from {} {}",
                               count.messages, t.many_recipients, count.recipients, kind, actor),
                   count.ids.sorted(), t.many_recipients});
  }
}

// Kinds where one key holding much of the queue points at one offender.
constexpr ActorKind kDominanceKinds[] = {ActorKind::auth_account, ActorKind::local_user, ActorKind::sender,
                                         ActorKind::client_ip, ActorKind::script};

void find_dominant_actors(const SummaryAccumulator& s, const Thresholds& t, std::vector<Finding>& out) {
  uint64_t needed = relative_floor(s.messages, t.dominant_share, t.dominant_floor);
  for (ActorKind kind : kDominanceKinds) {
    for (const auto& [key, actor_count] : s.actors[size_t(kind)]) {
      if (actor_count.messages < needed) continue;
      const ActorCount& count = actor_count;
      if (kind == ActorKind::sender && key == "<>") continue;  // bounces: see backscatter
      double share = 100.0 * double(count.messages) / double(s.messages);
      std::string user, who;  // a script header names only a file: say whose it is, as logs and holds do
      if (auto found = s.script_users.find(key); kind == ActorKind::script && found != s.script_users.end())
        user = found->second, who = " (local_user " + user + ")";
      Finding f{"dominant_actor",
                std::string(actor_kind_name(kind)),
                key,
                count.messages,
                count.recipients,
                fmt::format("{} {}{} holds {:.0f}% of the queue ({} of {} messages, {} frozen)", actor_kind_name(kind),
                            key, who, share, count.messages, s.messages, count.frozen),
                count.ids.sorted()};
      f.local_user = user;
      out.push_back(std::move(f));
    }
  }
}

// Keyed, as `logs` keys it, by the address the bounces go to: the forged sender of the spam
// that bounced, whose queued bounces `exiqgrep -r ADDRESS` selects. Frozen bounces count by
// their number too: a big queue hides 200 of them under any share.
void find_backscatter(const SummaryAccumulator& s, const Thresholds& t, std::vector<Finding>& out) {
  uint64_t needed = relative_floor(s.messages, t.backscatter_share, t.backscatter_floor);
  for (const auto& [address, count] : s.bounces_by_target) {
    if (count.messages < needed && count.frozen < std::max(t.backscatter_frozen, t.backscatter_floor)) continue;
    // Bounces Exim made here, into a mailbox here (frozen on a full one): that user's own, as
    // `logs` judges them; removing them would lose the user's real bounces.
    // (A few bounces other servers sent it beside them do not change that.)
    if (count.mailbox_here && count.from_elsewhere < t.backscatter_floor) continue;
    std::string why = "spam that forged this sender was accepted, then bounced (backscatter)";
    // Bounces other servers sent to this address: spam sent elsewhere forged it (one of ours).
    if (count.from_elsewhere == count.messages) why = "all from other servers: spam sent elsewhere forged this address";
    else if (count.from_elsewhere) why += fmt::format("; {} of them from other servers", count.from_elsewhere);
    if (count.moved_frozen)
      why += fmt::format(
          "; {} of them in Finput/ (move_frozen_messages), which neither Exim's tools nor this "
          "command's actions reach",
          count.moved_frozen);
    Finding f{
        "backscatter",     "bounce_recipient",
        address,           count.messages,
        count.recipients,  fmt::format("{} bounces to {} ({} frozen): {}", count.messages, address, count.frozen, why),
        count.ids.sorted()};
    f.bounces_from_elsewhere = count.from_elsewhere;
    out.push_back(std::move(f));
  }
}

void find_random_senders(const SummaryAccumulator& s, const Thresholds& t, std::vector<Finding>& out) {
  for (const auto& [domain, senders] : s.random_by_domain) {
    if (senders.local_parts.size() < t.random_localparts_floor) continue;
    out.push_back(
        {"random_sender_localparts", "sender_domain", domain, senders.messages, senders.recipients,
         fmt::format("{}{} random-looking sender local parts on {} ({} messages)", senders.local_parts.size(),
                     senders.local_parts.size() >= kMaxRandomLocalPartsKept ? "+" : "", domain, senders.messages),
         senders.ids.sorted()});
  }
}

}  // namespace

void note_script_user(std::unordered_map<std::string, std::string>& users, std::string_view script,
                      std::string_view login) {
  auto [it, added] = users.try_emplace(std::string(script), login);
  if (!added && it->second != login) it->second = kSeveralUsers;
}

std::string_view actor_kind_name(ActorKind kind) {
  static constexpr std::string_view kNames[kActorKinds] = {"auth_account",     "local_user", "sender",
                                                           "sender_domain",    "client_ip",  "helo",
                                                           "recipient_domain", "subject",    "script"};
  return kNames[size_t(kind)];
}

void IdSample::find_largest() { largest_ = size_t(std::max_element(ids_.begin(), ids_.end()) - ids_.begin()); }

void IdSample::add(std::string_view id, size_t capacity) {
  if (ids_.size() < capacity) {
    ids_.emplace_back(id);
    if (ids_.size() == capacity) find_largest();
    return;
  }
  if (ids_.empty() || !(id < ids_[largest_])) return;
  ids_[largest_] = id;
  find_largest();
}

void IdSample::merge(const IdSample& other, size_t capacity) {
  for (const std::string& id : other.ids_) add(id, capacity);
}

std::vector<std::string> IdSample::sorted() const {
  std::vector<std::string> out = ids_;
  std::sort(out.begin(), out.end());
  return out;
}

void SummaryAccumulator::on_message(const spool::MessageLocation& location, const spool::SpoolHeader& header,
                                    int64_t body_size) {
  extract_facts(header, now_, facts_);
  facts_.moved_frozen = location.moved_frozen;
  add(location.id, facts_, body_size);
  moved_frozen += location.moved_frozen;
}

void SummaryAccumulator::on_unreadable(const spool::MessageLocation& location, std::string_view reason) {
  ++unreadable;
  if (unreadable_messages.size() < kMaxUnreadableListed)
    unreadable_messages.push_back({location.id, std::string(reason)});
}

void SummaryAccumulator::count_actor(ActorKind kind, std::string_view key, const MessageFacts& facts,
                                     std::string_view id, uint64_t recipients, bool sample) {
  if (key.empty()) return;
  ActorMap& map = actors[size_t(kind)];
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), ActorCount()).first;
  it->second.messages += 1;
  it->second.recipients += recipients;
  it->second.frozen += facts.frozen;
  if (sample) it->second.ids.add(id, thresholds_.sample_ids);
}

void SummaryAccumulator::add(std::string_view id, const MessageFacts& facts, int64_t body_size) {
  ++messages;
  frozen += facts.frozen;
  bounces += facts.bounce;
  recipients += facts.pending_recipients;
  if (body_size >= 0) {
    body_bytes += uint64_t(body_size);
    ++sized;
  }
  if (facts.age_seconds > oldest_age || oldest_id.empty()) {
    oldest_age = facts.age_seconds;
    oldest_id = id;
  }
  size_t bucket = 0;
  while (facts.age_seconds >= kAgeBucketLimits[bucket]) ++bucket;
  ++age_buckets[bucket];

  const uint64_t rcpts = facts.pending_recipients;
  count_actor(ActorKind::auth_account, facts.auth_account, facts, id, rcpts, true);
  // As in the log: the Unix user who ran sendmail, not Exim's own user for mail it received.
  if (!facts.local_user.empty()) count_actor(ActorKind::local_user, facts.local_user, facts, id, rcpts, true);
  count_actor(ActorKind::sender, facts.sender, facts, id, rcpts, true);
  count_actor(ActorKind::sender_domain, facts.sender_domain, facts, id, rcpts, false);
  count_actor(ActorKind::client_ip, facts.client_ip, facts, id, rcpts, true);
  count_actor(ActorKind::helo, facts.helo, facts, id, rcpts, false);
  count_actor(ActorKind::subject, facts.subject, facts, id, rcpts, false);
  count_actor(ActorKind::script, facts.script, facts, id, rcpts, true);
  if (!facts.script.empty()) note_script_user(script_users, facts.script, facts.login);
  for (const auto& [domain, count] : facts.recipient_domains)
    count_actor(ActorKind::recipient_domain, domain.empty() ? "(none)" : domain, facts, id, count, false);

  auto [blamed_kind, blamed_key] = blamed_actor(facts);
  std::string& key = key_;  // reused: no allocation per message
  key.assign(blamed_kind).append(":").append(blamed_key);
  auto it = blamed.find(std::string_view(key));
  if (it == blamed.end()) it = blamed.emplace(key, ActorCount()).first;
  it->second.messages += 1;
  if (rcpts >= thresholds_.many_recipients) {
    ActorCount& many = many_recipient_by_actor[key];
    many.messages += 1;
    many.recipients += rcpts;
    many.frozen += facts.frozen;
    many.ids.add(id, thresholds_.sample_ids);
  }
  if (facts.bounce) {
    // Converging on the bounce's own recipient: the sender the spam forged.
    std::string target = !facts.first_recipient.empty() ? facts.first_recipient : "(none)";
    ActorCount& count = bounces_by_target[target];
    count.messages += 1;
    count.recipients += rcpts;
    count.frozen += facts.frozen;
    // As `logs` counts them; and not made by Exim (-localerror).
    bool elsewhere =
        !facts.exim_generated && eximlog::is_from_other_server(facts.client_ip, !facts.auth_account.empty());
    count.from_elsewhere += elsewhere;
    count.moved_frozen += facts.moved_frozen;
    if (!elsewhere) count.made_here.add(id, kMsglogProbes);
    count.ids.add(id, thresholds_.sample_ids);
  }
  if (!facts.sender_domain.empty() && looks_random_localpart(facts.sender_local_part)) {
    RandomSenders& senders = random_by_domain[facts.sender_domain];
    senders.messages += 1;
    senders.recipients += rcpts;
    if (senders.local_parts.size() < kMaxRandomLocalPartsKept) senders.local_parts.insert(facts.sender_local_part);
    senders.ids.add(id, thresholds_.sample_ids);
  }
}

void SummaryAccumulator::merge(const SummaryAccumulator& o) {
  messages += o.messages, frozen += o.frozen, bounces += o.bounces, recipients += o.recipients;
  unreadable += o.unreadable, vanished += o.vanished, body_bytes += o.body_bytes, moved_frozen += o.moved_frozen;
  sized += o.sized;
  if (!o.oldest_id.empty() &&
      (oldest_id.empty() || o.oldest_age > oldest_age || (o.oldest_age == oldest_age && o.oldest_id < oldest_id))) {
    oldest_age = o.oldest_age;
    oldest_id = o.oldest_id;
  }
  for (size_t i = 0; i < kAgeBuckets; ++i) age_buckets[i] += o.age_buckets[i];
  for (size_t k = 0; k < kActorKinds; ++k) merge_maps(actors[k], o.actors[k], thresholds_.sample_ids);
  merge_maps(blamed, o.blamed, 0);
  for (const auto& [script, login] : o.script_users) note_script_user(script_users, script, login);
  merge_maps(many_recipient_by_actor, o.many_recipient_by_actor, thresholds_.sample_ids);
  merge_maps(bounces_by_target, o.bounces_by_target, thresholds_.sample_ids);
  for (const auto& [domain, senders] : o.random_by_domain) {
    RandomSenders& into = random_by_domain[domain];
    into.messages += senders.messages;
    into.recipients += senders.recipients;
    for (const std::string& local : senders.local_parts)
      if (into.local_parts.size() < kMaxRandomLocalPartsKept) into.local_parts.insert(local);
    into.ids.merge(senders.ids, thresholds_.sample_ids);
  }
  for (const UnreadableMessage& u : o.unreadable_messages)
    if (unreadable_messages.size() < kMaxUnreadableListed) unreadable_messages.push_back(u);
}

QueueReport build_report(const SummaryAccumulator& s, const Thresholds& t, size_t top_n) {
  QueueReport report;
  report.messages = s.messages, report.frozen = s.frozen, report.bounces = s.bounces;
  report.unreadable = s.unreadable, report.vanished = s.vanished, report.recipients = s.recipients;
  report.body_bytes = s.body_bytes, report.moved_frozen = s.moved_frozen;
  report.body_bytes_known = s.sized == s.messages;
  report.oldest_age = s.oldest_age, report.oldest_id = s.oldest_id, report.age_buckets = s.age_buckets;
  for (size_t k = 0; k < kActorKinds; ++k) {
    report.top_actors[k] = top_rows(s.actors[k], top_n);
    report.distinct_actors[k] = s.actors[k].size();
  }
  for (ActorRow& row : report.top_actors[size_t(ActorKind::script)])
    if (auto user = s.script_users.find(row.key); user != s.script_users.end()) row.local_user = user->second;
  if (auto top = top_rows(s.blamed, 1); !top.empty() && s.messages > 0) {
    report.top_sender = top[0].key;
    report.top_sender_share = 100.0 * double(top[0].messages) / double(s.messages);
  }
  find_many_recipients(s, t, report.findings);
  find_dominant_actors(s, t, report.findings);
  find_backscatter(s, t, report.findings);
  find_random_senders(s, t, report.findings);
  std::stable_sort(report.findings.begin(), report.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.messages != b.messages) return a.messages > b.messages;
    return std::tie(a.kind, a.actor) < std::tie(b.kind, b.actor);
  });
  report.unreadable_messages = s.unreadable_messages;
  std::sort(report.unreadable_messages.begin(), report.unreadable_messages.end(),
            [](const UnreadableMessage& a, const UnreadableMessage& b) { return a.id < b.id; });
  return report;
}

}  // namespace sw::queue
