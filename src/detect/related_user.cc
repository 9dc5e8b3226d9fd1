#include "detect/related_user.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/text.h"
#include "eximlog/cwd_matcher.h"

namespace sw::detect {
namespace {

using LoginCounts = std::vector<std::pair<std::string, uint32_t>>;

// "userx1 (40), news (3), bob (2) and others (4)": the largest counts first.
std::string list_logins(LoginCounts logins, uint32_t others) {
  std::stable_sort(logins.begin(), logins.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  constexpr size_t kShown = 3;
  std::vector<std::string> parts;
  for (size_t i = 0; i < logins.size(); ++i) {
    if (i < kShown) parts.push_back(fmt::format("{} ({})", logins[i].first, logins[i].second));
    else others += logins[i].second;
  }
  if (others) parts.push_back(fmt::format("others ({})", others));
  return join_with_and(parts);
}

RelatedUser no_user(const std::string& why, std::string_view suggested) {
  return {"", fmt::format("{}: no user held with it; hold user:{} if it is the culprit", why, suggested)};
}

}  // namespace

void SubmitterTally::add(std::string_view login) {
  for (auto& [name, count] : logins_)
    if (name == login) {
      ++count;
      return;
    }
  if (logins_.size() < kMaxLogins) logins_.emplace_back(std::string(login), 1);
  else ++others_;
}

RelatedUser decide_related_user(std::string_view script_dir, const SubmitterTally& tally) {
  const LoginCounts& logins = tally.logins();
  if (logins.empty()) return {"", "its submissions name no local user"};
  if (std::string_view owner = eximlog::home_login(script_dir); !owner.empty()) {
    for (const auto& [login, count] : logins)
      if (login == owner) return {std::string(owner), ""};
    return no_user(fmt::format("submissions name {}, but the directory lies in {}'s home",
                               list_logins(logins, tally.others()), owner),
                   owner);
  }
  uint32_t total = tally.others();
  for (const auto& e : logins) total += e.second;
  auto top =
      std::max_element(logins.begin(), logins.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  if (top->second == total ||
      (top->second >= kDominantMinimum && double(top->second) >= kDominantShare * double(total)))
    return {top->first, ""};
  return no_user(fmt::format("submissions name {}", list_logins(logins, tally.others())), top->first);
}

}  // namespace sw::detect
