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

uint32_t ActorTable::intern(std::string_view key, bool* created) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    if (created) *created = false;
    return it->second;
  }
  uint32_t idx = uint32_t(actors_.size());
  index_.emplace(std::string(key), idx);
  ActorStats& a = actors_.emplace_back();
  a.key = std::string(key);
  if (window_span_ > 0) a.window = std::make_unique<PeakWindow>(window_span_);
  if (created) *created = true;
  return idx;
}

void ActorTable::note_client_ip(ActorStats& a, std::string_view ip) {
  if (ip.empty()) return;
  if (!a.client_ip_hashes.insert(std::hash<std::string_view>{}(ip)).second) return;
  if (a.client_ips.size() < kMaxListedIps) a.client_ips.emplace_back(ip);
}

}  // namespace sw::stats
