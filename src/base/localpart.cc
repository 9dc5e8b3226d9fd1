#include "base/localpart.h"

#include "base/text.h"

namespace sw {
namespace {

constexpr size_t kMinLength = 6;          // shorter strings carry too little evidence
constexpr int kMinClassSwitches = 3;      // "a8f3k2": letters and digits interleaved
constexpr int kMinConsonantRun = 5;       // "xkqjz": no human name has five in a row
constexpr size_t kMinLettersForRatio = 10;  // "strengths" has 1 vowel in 9
constexpr double kMaxVowelRatio = 0.1;

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'; }
bool is_letter(char c) { return c >= 'a' && c <= 'z'; }

// VERP, SRS and BATV senders are random by design but legitimate; never flag them.
bool is_bounce_encoding(std::string_view lower) {
  return lower.find('=') != std::string_view::npos || lower.starts_with("bounce") ||
         lower.starts_with("srs0") || lower.starts_with("srs1") || lower.starts_with("prvs") ||
         lower.starts_with("msprvs") || lower.starts_with("btv1");
}

}  // namespace

bool looks_random_localpart(std::string_view local_part) {
  std::string lower = to_lower(local_part);
  if (lower.size() < kMinLength || is_bounce_encoding(lower)) return false;
  int switches = 0, consonant_run = 0, longest_run = 0;
  size_t letters = 0, vowels = 0;
  int previous_class = 0;  // 1 letter, 2 digit, 0 other
  for (char c : lower) {
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
