// A content filter's answer for one message: the score Exim shows as $spam_score, the
// threshold it was compared with, and the strongest reasons, as $spam_report names them.
#pragma once
#include <string>
#include <vector>

namespace sw::classify {

struct Reason {
  std::string name;  // a token ("url:example.top") or a rule ("HDR_MISSING_DATE")
  double weight;     // its contribution to the score; positive is spammy
};

struct Verdict {
  double score = 0;      // calibrated: spam when score >= threshold
  double threshold = 5;  // the configured default threshold
  bool is_spam = false;
  std::vector<Reason> reasons;  // strongest first, a handful
};

}  // namespace sw::classify
