// The audit's checks as data: one row per stable id. The table drives the report's order and
// wording, --json, --only/--skip and docs/audit.md (a test keeps the doc in step).
#pragma once
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

namespace sw::audit {

// Severity of a failed check as the table documents it; findings carry the coarser
// Finding::severity (CRIT stays crit, HIGH/MED warn, LOW/INFO info).
enum class Level { crit, high, med, low, info };
const char* level_name(Level level);

enum Platform : unsigned {
  kCpanel = 1,
  kDirectAdmin = 2,
  kDebian = 4,
  kOtherExim = 8,  // an Exim without a known panel or Debian packaging
  kAllPlatforms = kCpanel | kDirectAdmin | kDebian | kOtherExim,
};
const char* platform_name(Platform platform);

struct CheckInfo {
  std::string_view id;
  Level level;
  unsigned platforms;
  std::string_view title;  // a few words, for the report
  std::string_view doc;    // one line, for --help-like listings and docs/audit.md
};

std::span<const CheckInfo> check_table();
const CheckInfo* find_check(std::string_view id);

// --only / --skip: comma-separated ids or id families ("R" = every R check).
class CheckSelection {
 public:
  // False with *error naming the first unknown id.
  bool parse(const std::string& only, const std::string& skip, std::string* error);
  bool wants(std::string_view id) const;
  bool wants_any(std::string_view family) const;  // some check of "R", "S", "C", "D"

 private:
  std::set<std::string, std::less<>> only_, skip_;
};

}  // namespace sw::audit
