#include "detect/actor_type.h"

#include "base/ip_cidr.h"
#include "base/text.h"

namespace sw::detect {

const char* actor_type_name(ActorType type) {
  switch (type) {
    case ActorType::Script: return "script";
    case ActorType::LocalUser: return "local_user";
    case ActorType::AuthAccount: return "auth_account";
    case ActorType::ClientIp: return "client_ip";
    case ActorType::Sender: return "sender";
  }
  return "unknown";
}

std::optional<ActorType> parse_actor_type(std::string_view name) {
  for (ActorType t : kAllActorTypes)
    if (name == actor_type_name(t)) return t;
  if (name == "user" || name == "login") return ActorType::LocalUser;
  if (name == "auth" || name == "account") return ActorType::AuthAccount;
  if (name == "ip") return ActorType::ClientIp;
  return std::nullopt;
}

std::string normalize_key(ActorType type, std::string_view key) {
  if (type == ActorType::AuthAccount || type == ActorType::Sender) return to_lower(key);
  // Exim logs a cwd= without a trailing slash; a shell's completion adds one.
  if (type == ActorType::Script)
    while (key.size() > 1 && key.back() == '/') key.remove_suffix(1);
  // An address as Exim writes it (inet_ntop's form): "2001:DB8:0:0::15" is 2001:db8::15.
  if (type == ActorType::ClientIp)
    if (auto ip = parse_ip(key)) return format_ip(*ip);
  return std::string(key);
}

std::optional<ActorRef> parse_actor_ref(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size()) return std::nullopt;
  auto type = parse_actor_type(text.substr(0, colon));
  if (!type) return std::nullopt;
  return ActorRef{*type, normalize_key(*type, text.substr(colon + 1))};
}

std::string format_actor_ref(const ActorRef& ref) { return std::string(actor_type_name(ref.type)) + ":" + ref.key; }

}  // namespace sw::detect
