// Who ran a held script, decided over all of its attributed submissions. Without +pid a
// submission is paired with a cwd= line by a guess, so the latest pairing can name another
// user (one who happened to submit in the same second); holding that user would freeze her
// mail. A user is named only when the submissions agree; otherwise the script is held alone
// and the note says why. Pure, no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw::detect {

// Logins (U=) of the submissions attributed to one script directory, with counts.
class SubmitterTally {
 public:
  static constexpr size_t kMaxLogins = 16;  // distinct logins remembered; more go to others()

  void add(std::string_view login);
  const std::vector<std::pair<std::string, uint32_t>>& logins() const { return logins_; }
  uint32_t others() const { return others_; }

 private:
  std::vector<std::pair<std::string, uint32_t>> logins_;
  uint32_t others_ = 0;
};

// A user whose share of the submissions is at least kDominantShare, with at least
// kDominantMinimum of them, is named though a few pairings disagree (an old guess gone wrong).
inline constexpr double kDominantShare = 0.98;
inline constexpr uint32_t kDominantMinimum = 50;

struct RelatedUser {
  std::string user;  // empty: hold the script alone
  std::string note;  // why no user is held with it (empty when one is)
};

// Where the directory lies in a home (/home*/LOGIN/...), only submissions by LOGIN count:
// a pairing naming someone else contradicts the directory's owner and is a wrong guess.
RelatedUser decide_related_user(std::string_view script_dir, const SubmitterTally& tally);

}  // namespace sw::detect
