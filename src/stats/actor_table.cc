#include "stats/actor_table.h"

#include <functional>

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
  if (uint32_t* slot = index_.find(h)) {
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
  const uint32_t* slot = index_.find(hash);
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
  const uint32_t* slot = index_.find(key_hash(key));
  return slot ? &actors_[*slot] : nullptr;
}

const std::vector<std::string>& ActorStats::listed_ips() const {
  static const std::vector<std::string> none;
  return extras ? extras->client_ips : none;
}

void ActorTable::note_client_ip(ActorStats& a, std::string_view ip, uint64_t ip_hash) {
  if (ip.empty() || !a.extras) return;
  if (a.extras->last_ip_hash == ip_hash && !a.extras->client_ip_hashes.empty()) return;
  a.extras->last_ip_hash = ip_hash;
  if (!a.extras->client_ip_hashes.insert(ip_hash).second) return;
  if (a.extras->client_ips.size() < kMaxListedIps) a.extras->client_ips.emplace_back(ip);
}

}  // namespace sw::stats
