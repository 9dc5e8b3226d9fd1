// Heuristic: does an address local part look machine-generated ("xkqjzpwv", "a8f3k2j9")?
// Shared by queue findings and log forensics. Pure; tuned to stay quiet on human names, role
// accounts and VERP/SRS bounce addresses, at the cost of missing short random strings.
#pragma once
#include <string_view>

namespace sw {

// `local_part` is the part before '@' (the caller splits). Case-insensitive.
bool looks_random_localpart(std::string_view local_part);

// A mailing list's bounce address as Mailman names it: "LIST-bounces", or its VERP form
// "LIST-bounces+member=example.com". `local_part` is lowercased by the caller.
inline bool is_list_bounce_localpart(std::string_view local_part) {
  return local_part.ends_with("-bounces") || local_part.find("-bounces+") != std::string_view::npos;
}

}  // namespace sw
