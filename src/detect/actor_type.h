// The kinds of actor the live detector watches and the containment holds. Their names are
// also the hold-list file names and the config table names, so they never change.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw::detect {

enum class ActorType : uint8_t { Script, LocalUser, AuthAccount, ClientIp, Sender };
inline constexpr size_t kActorTypes = 5;
inline constexpr std::array<ActorType, kActorTypes> kAllActorTypes = {
    ActorType::Script, ActorType::LocalUser, ActorType::AuthAccount, ActorType::ClientIp, ActorType::Sender};

// "script", "local_user", "auth_account", "client_ip", "sender".
const char* actor_type_name(ActorType type);
std::optional<ActorType> parse_actor_type(std::string_view name);

// What an admin types: "user:userx1", "script:/home/u/public_html", "auth:a@b", "ip:1.2.3.4",
// "sender:a@b" (the long type names work too). Keys of auth accounts and senders are
// lower-cased, as the detector stores them.
struct ActorRef {
  ActorType type = ActorType::Script;
  std::string key;
  bool operator==(const ActorRef&) const = default;
};
std::optional<ActorRef> parse_actor_ref(std::string_view text);
std::string format_actor_ref(const ActorRef& ref);  // "local_user:userx1"
std::string normalize_key(ActorType type, std::string_view key);

}  // namespace sw::detect
