// Whom an actor mails again, run after run: the K smallest hashes of the recipients it named
// (a bottom-K sample of its distinct recipients, a uniform one), each with the first and last
// time a message named it and the runs it was named in (a run: times less than kApart after
// the one before). A nightly digest names the same subscribers night after night; a hijacked
// script names new addresses, a mail loop names them again within the hour, and a spammer
// sends a harvested list once or twice. Slices of a log, and its rotated files, merge in order
// into exactly the sample of the whole: a recipient among the K smallest overall is among each
// part's K smallest, with its times and runs (it was never pushed out); its runs join when the
// later part's first time comes less than kApart after the earlier part's last.
// A sample may admit only the hashes up to a ceiling (a quarter of them, for the tens of
// thousands of accounts a host has): the same recipients in every part, so it still merges
// exactly, and it costs nothing for an actor that mailed no admitted address.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/civil_time.h"

namespace sw::stats {

class RecipientSample {
 public:
  static constexpr size_t kSize = 64;  // the distinct count within about 13%
  // Enough different recipients in the sample to judge (a contact form mails one).
  static constexpr size_t kJudged = 16;
  // Named again this long after it was first named: another run (the next night's digest),
  // not the same run mailing it twice.
  static constexpr CivilSeconds kApart = 12 * 3600;

  // Named in this many runs: a list, not one campaign sent twice or a payload that ran on
  // two nights of a digest.
  static constexpr uint32_t kRuns = 3;

  // ... over this long at least: three runs a day apart (a list mailed night after night),
  // not one harvested list sent three times within a day.
  static constexpr CivilSeconds kAgainSpan = 3 * kApart;

  struct Entry {
    uint32_t hash = 0;
    uint16_t runs = 1;
    uint16_t named = 1;  // the messages that named it (up to 65535): a mail bomb names its few again and again
    CivilSeconds first = 0, last = 0;
    bool again() const { return runs >= kRuns && last - first >= kAgainSpan; }
  };
  static uint16_t capped_sum(uint32_t a, uint32_t b) { return uint16_t(std::min<uint32_t>(a + b, UINT16_MAX)); }

  static constexpr uint32_t kEveryHash = UINT32_MAX;
  explicit RecipientSample(uint32_t ceiling = kEveryHash) : ceiling_(ceiling) {}
  uint32_t ceiling() const { return ceiling_; }
  bool admits(uint32_t hash) const { return hash <= ceiling_; }

  void add(uint32_t hash, CivilSeconds t) {
    if (!admits(hash)) return;
    auto at = std::lower_bound(kept_.begin(), kept_.end(), hash, [](const Entry& e, uint32_t h) { return e.hash < h; });
    if (at != kept_.end() && at->hash == hash) {
      if (t - at->last >= kApart) at->runs = capped_sum(at->runs, 1);
      at->named = capped_sum(at->named, 1);
      at->first = std::min(at->first, t), at->last = std::max(at->last, t);
      return;
    }
    if (kept_.size() == kSize) {
      if (at == kept_.end()) return;  // larger than every kept one
      kept_.pop_back();
    }
    kept_.insert(at, {hash, 1, 1, t, t});
  }

  // Merges the sample of what came after this one's. The parts of one actor's sample have one
  // ceiling; were they to differ, the whole admits what both do (the larger hashes, last).
  void merge(const RecipientSample& later) {
    ceiling_ = std::min(ceiling_, later.ceiling_);
    std::vector<Entry> joined;
    joined.reserve(std::min(kSize, kept_.size() + later.kept_.size()));
    auto a = kept_.cbegin(), b = later.kept_.cbegin();
    auto a_end =
        std::upper_bound(kept_.cbegin(), kept_.cend(), ceiling_, [](uint32_t c, const Entry& e) { return c < e.hash; });
    auto b_end = std::upper_bound(later.kept_.cbegin(), later.kept_.cend(), ceiling_,
                                  [](uint32_t c, const Entry& e) { return c < e.hash; });
    while (joined.size() < kSize && (a != a_end || b != b_end)) {
      if (b == b_end || (a != a_end && a->hash < b->hash)) joined.push_back(*a++);
      else if (a == a_end || b->hash < a->hash) joined.push_back(*b++);
      else {
        uint16_t runs = capped_sum(a->runs, b->runs - (b->first - a->last < kApart ? 1u : 0u));
        joined.push_back(
            {a->hash, runs, capped_sum(a->named, b->named), std::min(a->first, b->first), std::max(a->last, b->last)});
        ++a, ++b;
      }
    }
    kept_ = std::move(joined);
  }

  // Nearly all the sampled recipients were named in kRuns runs or more: a list mailed run
  // after run (false until kJudged different ones were sampled). A fifth new, a run that
  // names its addresses twice, or a list sent twice, is no list's.
  bool mostly_mailed_again() const {
    if (kept_.size() < kJudged) return false;
    size_t again = size_t(std::count_if(kept_.begin(), kept_.end(), [](const Entry& e) { return e.again(); }));
    return 5 * again >= 4 * kept_.size();
  }

  // The sample beside an actor's busiest window [from, to]: a site's nightly digest shares its
  // directory with mail to one-off addresses (a shop's order mail, password resets), so
  // judged by the addresses that window may have named, not by all the sample's.
  struct AroundPeak {
    bool mailed_again = false;  // kJudged or more sampled there, four fifths of them mailed again
    double list = 0;            // the addresses mailed again: the list's size, estimated
    // The most mail to new addresses (named in fewer runs) within any span, estimated: a
    // hijack's or a mail bomb's comes at once, one-off mail spread out.
    double fresh_peak = 0;
    // Messages that named an address more than kPerRun times in a run, beyond those, estimated
    // (whenever they came): a mail bomb's or a looped form's, at its victims or the list's own.
    double repeated = 0;
  };
  // A run may name an address a few times (a digest and a reminder); a bomb names it hundreds.
  static constexpr uint32_t kPerRun = 4;
  AroundPeak around_peak(CivilSeconds from, CivilSeconds to, CivilSeconds span) const {
    AroundPeak out;
    if (kept_.empty()) return out;
    double scale = each_stands_for();
    size_t there = 0, again_there = 0, again = 0;
    std::vector<std::pair<CivilSeconds, uint32_t>> fresh;  // mail to new addresses: when, how many
    uint64_t repeated = 0;
    for (const Entry& e : kept_) {
      repeated += e.named - std::min<uint32_t>(e.named, kPerRun * e.runs);
      // Named before and after the window, it may not have been named in it: a subscriber is.
      bool near = e.first <= to && e.last >= from;
      there += near, again_there += near && e.again(), again += e.again();
      if (e.again()) continue;
      if (e.last - e.first < span) {
        fresh.emplace_back(e.first, e.named);  // all of it within one span
      } else {
        fresh.emplace_back(e.first, 1), fresh.emplace_back(e.last, 1);
      }
    }
    out.mailed_again = there >= kJudged && 5 * again_there >= 4 * there;
    out.list = double(again) * scale;
    std::sort(fresh.begin(), fresh.end());
    uint64_t most = 0, inside = 0;
    for (size_t begin = 0, end = 0; end < fresh.size(); ++end) {
      inside += fresh[end].second;
      while (fresh[end].first - fresh[begin].first >= span) inside -= fresh[begin++].second;
      most = std::max(most, inside);
    }
    out.fresh_peak = double(most) * scale;
    out.repeated = double(repeated) * scale;
    return out;
  }

  // How many different recipients it named: exact below kSize when it admits every hash
  // (else scaled by the share admitted), estimated from how small the kSize smallest hashes
  // are above it.
  double distinct() const {
    if (kept_.size() < kSize) return double(kept_.size()) * 4294967296.0 / (double(ceiling_) + 1.0);
    return double(kSize - 1) * 4294967296.0 / (double(kept_.back().hash) + 1.0);
  }

  // How many different recipients each kept one stands for (0 with none kept).
  double each_stands_for() const { return kept_.empty() ? 0 : distinct() / double(kept_.size()); }

  const std::vector<Entry>& entries() const { return kept_; }
  // Restores saved entries; false when they are not a sample (unsorted, repeated, times
  // reversed, above the ceiling).
  bool restore(std::vector<Entry> entries) {
    if (entries.size() > kSize) return false;
    for (size_t i = 0; i < entries.size(); ++i)
      if (entries[i].first > entries[i].last || entries[i].runs == 0 || entries[i].named < entries[i].runs ||
          !admits(entries[i].hash) || (i > 0 && entries[i - 1].hash >= entries[i].hash))
        return false;
    kept_ = std::move(entries);
    return true;
  }

 private:
  std::vector<Entry> kept_;  // ascending by hash
  uint32_t ceiling_;         // the largest hash admitted
};

}  // namespace sw::stats
