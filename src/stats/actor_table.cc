#include "stats/actor_table.h"

#include <algorithm>
#include <functional>
#include <type_traits>

namespace sw::stats {

const char* actor_kind_key(ActorKind kind) {
  switch (kind) {
    case ActorKind::Script: return "script";
    case ActorKind::LocalUser: return "local_user";
    case ActorKind::AuthAccount: return "auth_account";
    case ActorKind::ClientIp: return "client_ip";
    case ActorKind::Sender: return "sender";
    case ActorKind::SenderDomain: return "sender_domain";
    case ActorKind::Subject: return "subject";
    case ActorKind::BounceRecipient: return "bounce_recipient";
  }
  return "?";
}

const char* actor_kind_title(ActorKind kind) {
  switch (kind) {
    case ActorKind::Script: return "Script directories (cwd=)";
    case ActorKind::LocalUser: return "Local users (U=)";
    case ActorKind::AuthAccount: return "SMTP-AUTH accounts (A=)";
    case ActorKind::ClientIp: return "Client IPs";
    case ActorKind::Sender: return "Senders";
    case ActorKind::SenderDomain: return "Sender domains";
    case ActorKind::Subject: return "Subjects";
    case ActorKind::BounceRecipient: return "Bounce recipients";
  }
  return "?";
}

uint32_t ActorTable::intern(uint64_t h, std::string_view key, bool lower, bool* created) {
  // Actors are identified by a 64-bit hash of their key: comparing the key bytes would cost a
  // cache miss per lookup, and a collision among even 10^7 keys has odds of about 10^-5.
  if (uint32_t* slot = index().find(h)) {
    if (created) *created = false;
    return *slot;
  }
  uint32_t idx = uint32_t(actors_.size());
  index_[h] = idx;
  ActorStats& a = actors_.emplace_back();
  a.key = lower ? keys_.store_lowered(key) : keys_.store(key);
  if (with_extras_) {
    a.extras = std::make_unique<ActorExtras>();
    if (window_span_ > 0) a.extras->window.emplace(window_span_);
  }
  if (created) *created = true;
  return idx;
}

uint32_t ActorTable::prefetch_actor(uint64_t hash) const {
  const uint32_t* slot = index().find(hash);
  if (!slot) return UINT32_MAX;
  __builtin_prefetch(&actors_[*slot]);  // the first cache line: what counting touches
  return *slot;
}

void ActorTable::prefetch_extras(uint32_t index) const {
  if (index >= actors_.size() || !actors_[index].extras) return;
  // A peak window with its inline events spans the extras' first two cache lines.
  const char* extras = reinterpret_cast<const char*>(actors_[index].extras.get());
  __builtin_prefetch(extras);
  __builtin_prefetch(extras + 64);
}

void ActorTable::prefetch_window_tail(uint32_t index) const {
  if (index >= actors_.size()) return;
  if (const PeakWindow* w = actors_[index].window())
    if (const void* tail = w->tail()) __builtin_prefetch(tail);
}

const ActorStats* ActorTable::find(std::string_view key) const {
  auto idx = find_index(key_hash(key));
  return idx ? &actors_[*idx] : nullptr;
}

std::optional<uint32_t> ActorTable::find_index(uint64_t hash) const {
  // A few lookups in a loaded table (the findings ask about a bounce recipient's sender) scan
  // its hashes, a few hundred microseconds each, rather than build an index of 10^5 actors.
  constexpr uint32_t kScansBeforeIndex = 8;
  if (!unindexed_.empty() && scans_ < kScansBeforeIndex) {
    ++scans_;
    auto at = std::find(unindexed_.begin(), unindexed_.end(), hash);  // the first: as the index keeps
    return at == unindexed_.end() ? std::nullopt : std::optional<uint32_t>(uint32_t(at - unindexed_.begin()));
  }
  const uint32_t* slot = index().find(hash);
  return slot ? std::optional<uint32_t>(*slot) : std::nullopt;
}

namespace {

// The counters of ActorStats, in one block: everything but the key and the extras.
struct SavedCounts {
  uint64_t messages, recipients, bytes;
  CivilSeconds first, last;
  uint32_t max_recipients, trusted_submissions, delivered, deferred, failed, frozen;
  uint32_t failed_logins, rejected_rcpts, distinct_senders, random_senders;
  uint64_t login_target;
  CivilSeconds first_failed_login, last_failed_login;
};
static_assert(std::has_unique_object_representations_v<SavedCounts>, "no padding bytes");

}  // namespace

const std::vector<uint64_t>& ActorTable::hashes_by_index(std::vector<uint64_t>& built) const {
  if (!unindexed_.empty()) return unindexed_;
  built.assign(actors_.size(), 0);
  index_.for_each([&](uint64_t hash, uint32_t idx) { built[idx] = hash; });
  return built;
}

void ActorTable::save(StateWriter& w) const {
  // In the order the actors were created, not the index's slot order: inserting a hash table's
  // keys in its own slot order into a smaller table of the same hash clusters them, and
  // loading 470 k actors took over a second that way.
  std::vector<uint64_t> built;
  const std::vector<uint64_t>& hash_of = hashes_by_index(built);
  w.u64(actors_.size());
  for (uint32_t idx = 0; idx < hash_of.size(); ++idx) {
    w.u64(hash_of[idx]);
    w.pod(idx);
  }
  for (const ActorStats& a : actors_) {
    w.pod(SavedCounts{a.messages, a.recipients, a.bytes, a.first, a.last, a.max_recipients, a.trusted_submissions,
                      a.delivered, a.deferred, a.failed, a.frozen, a.failed_logins, a.rejected_rcpts,
                      a.distinct_senders, a.random_senders, a.login_target, a.first_failed_login, a.last_failed_login});
    w.str(a.key);
    w.pod(uint8_t(a.extras ? 1 + (a.extras->window ? 1 : 0) : 0));
    if (!a.extras) continue;
    const ActorExtras& x = *a.extras;
    if (x.window) x.window->save(w);
    x.evidence.save(w);
    w.u64(x.logins.names.size());
    for (std::string_view login : x.logins.names) w.str(login);
    w.pod(uint8_t(x.logins.more));
    w.pod(x.first_rejection), w.pod(x.last_rejection);
    w.u64(x.rejected_addresses.size());
    for (uint32_t h : x.rejected_addresses) w.pod(h);
    w.u64(x.named ? x.named->entries().size() : 0);
    if (x.named)
      for (const RecipientSample::Entry& e : x.named->entries())
        w.pod(e.hash), w.pod(e.runs), w.pod(e.named), w.pod(e.first), w.pod(e.last);
    w.pod(uint8_t(x.ips != nullptr));
    if (x.ips) {
      w.u64(x.ips->listed.size());
      for (const auto& ip : x.ips->listed) w.str(ip);
      w.u64(x.ips->order.size());
      for (uint64_t h : x.ips->order) w.u64(h);
      for (CivilSeconds t : x.ips->first_seen) w.pod(t);
      w.u64(x.ips->last_hash);
    }
    w.pod(uint8_t(x.peak_lines != nullptr));
    if (x.peak_lines) x.peak_lines->save(w);
  }
}

void ActorTable::load(StateReader& r, EvidenceLines& copies) {
  if (!actors_.empty()) throw StateError("loading into a table in use");
  uint64_t n = r.count(sizeof(uint64_t) + sizeof(uint32_t) + sizeof(SavedCounts));
  // Saved in creation order: the i-th entry is actor i's. The index is built from the hashes at
  // the first lookup: a report over logs that did not change since never looks an actor up.
  unindexed_.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    unindexed_[i] = r.u64();
    if (r.pod<uint32_t>() != i) throw StateError("an actor index out of order");
  }
  for (uint64_t i = 0; i < n; ++i) {
    ActorStats& a = actors_.emplace_back();
    auto c = r.pod<SavedCounts>();
    for (CivilSeconds t : {c.first, c.last, c.first_failed_login, c.last_failed_login}) r.checked_time(t);
    a.messages = c.messages, a.recipients = c.recipients, a.bytes = c.bytes, a.first = c.first, a.last = c.last;
    a.max_recipients = c.max_recipients, a.trusted_submissions = c.trusted_submissions, a.delivered = c.delivered;
    a.deferred = c.deferred, a.failed = c.failed, a.frozen = c.frozen, a.failed_logins = c.failed_logins;
    a.rejected_rcpts = c.rejected_rcpts, a.distinct_senders = c.distinct_senders, a.random_senders = c.random_senders;
    a.first_failed_login = c.first_failed_login, a.login_target = c.login_target;
    a.last_failed_login = c.last_failed_login;
    a.key = keys_.store(r.str());
    auto extras = r.pod<uint8_t>();
    if (extras > 2 || (extras != 0) != with_extras_ || (extras == 2) != (window_span_ > 0))
      throw StateError("actor extras that do not fit the table");
    if (!extras) continue;
    a.extras = std::make_unique<ActorExtras>();
    ActorExtras& x = *a.extras;
    if (extras == 2) x.window.emplace(window_span_).load(r);
    x.evidence.load(r, copies);
    uint64_t logins = r.count(sizeof(uint64_t));
    if (logins > ScriptLogins::kMax) throw StateError("more script logins than are kept");
    for (uint64_t k = 0; k < logins; ++k) {
      std::string_view login = r.str();
      if (login.empty() || (!x.logins.names.empty() && login <= x.logins.names.back()))
        throw StateError("script logins empty or out of order");
      x.logins.note(keys_.store(login));
    }
    x.logins.more = r.pod<uint8_t>() != 0;
    if (x.logins.more && x.logins.names.size() < ScriptLogins::kMax) throw StateError("script logins cut short");
    x.first_rejection = r.time(), x.last_rejection = r.time();
    uint64_t rejected = r.count(sizeof(uint32_t));
    if (rejected > ActorExtras::kMaxDistinctRejected) throw StateError("more rejected addresses than are kept");
    for (uint64_t k = 0; k < rejected; ++k)
      if (!x.note_rejected_address(r.pod<uint32_t>())) throw StateError("a rejected address twice");
    if (uint64_t named = r.count(2 * sizeof(uint32_t) + 2 * sizeof(CivilSeconds)); named > 0) {
      if (named > RecipientSample::kSize) throw StateError("a recipient sample too large");
      std::vector<RecipientSample::Entry> entries(named);
      for (auto& e : entries) {
        e.hash = r.pod<uint32_t>(), e.runs = r.pod<uint16_t>(), e.named = r.pod<uint16_t>();
        e.first = r.time(), e.last = r.time();
      }
      x.named = std::make_unique<RecipientSample>(recipient_sample_ceiling(kind_));
      if (!x.named->restore(std::move(entries))) throw StateError("a recipient sample out of order");
    }
    auto has_ips = r.pod<uint8_t>();
    if (has_ips > 1) throw StateError("an IPs flag out of range");
    if (has_ips) {
      AccountIps& ips = *(x.ips = std::make_unique<AccountIps>());
      for (uint64_t k = 0, n = r.count(8); k < n; ++k) ips.listed.emplace_back(r.str());
      for (uint64_t k = 0, n = r.count(8); k < n; ++k) {
        ips.order.push_back(r.u64());
        if (!ips.hashes.insert(ips.order.back()).second) throw StateError("an account's IP twice");
      }
      for (size_t k = 0; k < ips.order.size(); ++k) ips.first_seen.push_back(r.time());
      ips.last_hash = r.u64();
      if (ips.listed.size() > std::min(ips.order.size(), kMaxListedIps))
        throw StateError("more IPs listed than an account has");
    }
    auto has_lines = r.pod<uint8_t>();
    if (has_lines > 1) throw StateError("a peak lines flag out of range");
    if (has_lines) (x.peak_lines = std::make_unique<PeakLines>())->load(r, copies);
  }
}

void ActorTable::build_index() const {
  // Each insert lands on a random slot of a table larger than the cache: with the slots a few
  // entries ahead already loading, most of those misses overlap. Two actors of one hash (a
  // damaged entry; 10^-5 odds among 10^7 keys otherwise) keep the first, as intern() does.
  constexpr size_t kAhead = 16;
  index_.reserve(unindexed_.size());
  for (size_t i = 0; i < unindexed_.size(); ++i) {
    if (i + kAhead < unindexed_.size()) index_.prefetch(unindexed_[i + kAhead]);
    size_t before = index_.size();
    uint32_t& slot = index_[unindexed_[i]];
    if (index_.size() != before) slot = uint32_t(i);
  }
  std::vector<uint64_t>().swap(unindexed_);
}

const std::vector<std::string>& ActorStats::listed_ips() const {
  static const std::vector<std::string> none;
  return extras && extras->ips ? extras->ips->listed : none;
}

void ActorTable::note_client_ip(ActorStats& a, std::string_view ip, uint64_t ip_hash, CivilSeconds t) {
  if (ip.empty() || !a.extras) return;
  if (!a.extras->ips) a.extras->ips = std::make_unique<AccountIps>();
  AccountIps& ips = *a.extras->ips;
  if (ips.last_hash == ip_hash && !ips.hashes.empty()) return;
  ips.last_hash = ip_hash;
  if (!ips.hashes.insert(ip_hash).second) return;
  ips.order.push_back(ip_hash);
  ips.first_seen.push_back(t);
  if (ips.listed.size() < kMaxListedIps) ips.listed.emplace_back(ip);
}

}  // namespace sw::stats
