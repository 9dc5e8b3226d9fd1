#include "base/localpart.h"

#include "base/text.h"

namespace sw {
namespace {

constexpr size_t kMinLength = 6;            // shorter strings carry too little evidence
constexpr int kMinClassSwitches = 3;        // "a8f3k2": letters and digits interleaved
constexpr int kMinConsonantRun = 5;         // "xkqjz": no human name has five in a row
constexpr size_t kMinLettersForRatio = 10;  // "strengths" has 1 vowel in 9
constexpr double kMaxVowelRatio = 0.1;

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'; }
bool is_letter(char c) { return c >= 'a' && c <= 'z'; }

// VERP, SRS and BATV senders are random by design but legitimate; never flag them. `head` is
// the lowercased start of the local part: every marker fits in its 6 bytes.
bool is_bounce_encoding(std::string_view local_part, std::string_view head) {
  return local_part.find('=') != std::string_view::npos || head.starts_with("bounce") || head.starts_with("srs0") ||
         head.starts_with("srs1") || head.starts_with("prvs") || head.starts_with("msprvs") || head.starts_with("btv1");
}

}  // namespace

// Called for every new sender address: lowercases as it reads, without a copy.
bool looks_random_localpart(std::string_view local_part) {
  if (local_part.size() < kMinLength) return false;
  char head[kMinLength];
  for (size_t i = 0; i < kMinLength; ++i) head[i] = ascii_lower(local_part[i]);
  if (is_bounce_encoding(local_part, std::string_view(head, kMinLength))) return false;
  int switches = 0, consonant_run = 0, longest_run = 0;
  size_t letters = 0, vowels = 0;
  int previous_class = 0;  // 1 letter, 2 digit, 0 other
  for (char raw : local_part) {
    char c = ascii_lower(raw);
    int current_class = is_letter(c) ? 1 : is_digit(c) ? 2 : 0;
    if (current_class != 0 && previous_class != 0 && current_class != previous_class) ++switches;
    previous_class = current_class;
    if (current_class == 1) {
      ++letters;
      if (is_vowel(c)) {
        ++vowels;
        consonant_run = 0;
      } else if (++consonant_run > longest_run) {
        longest_run = consonant_run;
      }
    } else {
      consonant_run = 0;
    }
  }
  if (switches >= kMinClassSwitches || longest_run >= kMinConsonantRun) return true;
  return letters >= kMinLettersForRatio && double(vowels) / double(letters) < kMaxVowelRatio;
}

}  // namespace sw
