#include "queue/queue_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "base/civil_time.h"
#include "base/text.h"

namespace sw::queue {
namespace {

constexpr const char* kStatusNames[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

// A sender is outside text: monitoring reads everything after the first '|' as perfdata and
// stops at a line end, so neither may come through.
std::string plugin_text(std::string_view outside) {
  std::string s = printable(outside, 120);
  std::replace(s.begin(), s.end(), '|', '/');
  return s;
}

template <typename T>
NagiosStatus grade(T value, std::optional<T> warn, std::optional<T> crit) {
  if (crit && value >= *crit) return kNagiosCritical;
  if (warn && value >= *warn) return kNagiosWarning;
  return kNagiosOk;
}

template <typename T>
std::string bound(std::optional<T> value) {
  return value ? fmt::format("{}", *value) : std::string();
}

}  // namespace

CheckResult evaluate_queue_check(const QueueReport& r, const CheckThresholds& t) {
  std::vector<std::string> reasons;
  NagiosStatus status = kNagiosOk;
  auto raise = [&](NagiosStatus s, std::string why) {
    if (s == kNagiosOk) return;
    status = std::max(status, s);
    reasons.push_back(std::move(why));
  };
  raise(grade<uint64_t>(r.messages, t.warn_total, t.crit_total), fmt::format("{} messages queued", r.messages));
  raise(grade<uint64_t>(r.frozen, t.warn_frozen, t.crit_frozen), fmt::format("{} frozen", r.frozen));
  raise(grade<int64_t>(r.oldest_age, t.warn_age, t.crit_age), "oldest " + format_duration(r.oldest_age));
  double share = r.messages >= t.share_min_messages ? r.top_sender_share : 0.0;
  raise(grade<double>(share, t.warn_share, t.crit_share),
        fmt::format("{} holds {:.0f}% of the queue", plugin_text(r.top_sender), share));
  if (r.unreadable > 0) raise(kNagiosWarning, fmt::format("{} unreadable spool files", r.unreadable));

  std::string text = reasons.empty() ? fmt::format("{} messages, {} frozen, {} bounces, oldest {}", r.messages,
                                                   r.frozen, r.bounces, format_duration(r.oldest_age))
                                     : fmt::format("{}", fmt::join(reasons, ", "));
  std::string perfdata = fmt::format(
      "queue={};{};{};0; frozen={};{};{};0; bounces={};;;0; oldest={}s;{};{};0; top_sender_share={:.1f}%;{};{};0;100 "
      "unreadable={};;;0;",
      r.messages, t.warn_total, t.crit_total, r.frozen, bound(t.warn_frozen), bound(t.crit_frozen), r.bounces,
      r.oldest_age, bound(t.warn_age), bound(t.crit_age), share, bound(t.warn_share), bound(t.crit_share),
      r.unreadable);
  return {status, fmt::format("QUEUE {} - {} | {}", kStatusNames[status], text, perfdata)};
}

}  // namespace sw::queue
