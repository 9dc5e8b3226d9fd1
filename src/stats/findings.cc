#include "stats/findings.h"

#include <fmt/format.h>

#include <algorithm>

namespace sw::stats {
namespace {

uint64_t percent(uint64_t part, uint64_t whole) { return whole ? (part * 100 + whole / 2) / whole : 0; }

std::string clock(CivilSeconds t) { return format_civil(t).substr(11, 5); }

// "97% of it within 11m (10:02-10:13)" or "" when the actor was not bursty.
std::string burst_phrase(const ActorStats& a) {
  if (!a.window() || a.window()->peak_messages() == 0) return "";
  uint64_t pct = percent(a.window()->peak_recipients(), a.recipients);
  int64_t dur = a.window()->peak_last() - a.window()->peak_first();
  int64_t minutes = (dur + 59) / 60;  // "within" rounds up
  return fmt::format(", {}% of it within {} ({}-{})", pct, format_duration(minutes < 1 ? 60 : minutes * 60),
                     clock(a.window()->peak_first()), clock(a.window()->peak_last()));
}

Finding base_finding(const Forensics& engine, const char* kind, const ActorStats& a, ActorKind ak) {
  Finding f;
  f.kind = kind;
  f.actor_kind = ak;
  f.actor = std::string(a.key);
  f.messages = a.messages;
  f.recipients = a.recipients;
  if (a.window()) {
    f.peak_messages = a.window()->peak_messages();
    f.peak_recipients = a.window()->peak_recipients();
    f.peak_first = a.window()->peak_first();
    f.peak_last = a.window()->peak_last();
  }
  f.evidence = engine.evidence_lines(a);
  f.score = double(a.recipients);
  return f;
}

std::string ip_phrase(const ActorStats& a) {
  size_t n = a.client_ip_count();
  if (n == 0) return "";
  if (n <= 3) {
    std::string s;
    for (const auto& ip : a.listed_ips()) s += (s.empty() ? "" : ", ") + ip;
    return " from " + s;
  }
  return fmt::format(" from {} client IPs", n);
}

void scripts_and_users(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  std::vector<std::string> flagged_users;
  for (const auto& a : f.table(ActorKind::Script).all()) {
    if (!is_burst(a, t)) continue;
    Finding x = base_finding(f, "spamming_script", a, ActorKind::Script);
    if (a.extras) x.local_user = std::string(a.extras->local_user);
    x.summary =
        fmt::format("script {} sent {} messages to {} recipients{}", a.key, a.messages, a.recipients, burst_phrase(a));
    out.push_back(std::move(x));
  }
  for (const auto& a : f.table(ActorKind::LocalUser).all()) {
    if (!is_burst(a, t)) continue;
    // A user whose burst is already explained by one of its scripts adds nothing new.
    bool explained = false;
    for (const auto& s : out)
      if (s.kind == "spamming_script" && s.actor.find(fmt::format("/{}/", a.key)) != std::string::npos)
        explained = true;
    if (explained) continue;
    Finding x = base_finding(f, "spamming_local_user", a, ActorKind::LocalUser);
    x.summary = fmt::format("local user {} sent {} messages to {} recipients{}", a.key, a.messages, a.recipients,
                            burst_phrase(a));
    out.push_back(std::move(x));
  }
}

void accounts(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  for (const auto& a : f.table(ActorKind::AuthAccount).all()) {
    if (a.recipients < t.account_min_recipients) continue;
    // Any of these says "someone else is using it"; a big message alone does not (newsletters).
    bool burst = is_burst(a, t);
    bool bulk = a.max_recipients >= t.many_recipients;
    bool many_ips = a.client_ip_count() >= t.account_min_ips;
    // Failed logins count when they are many and not the odd typo of a busy account.
    bool guessed = a.failed_logins >= t.account_failed_logins &&
                   double(a.failed_logins) >= t.account_failed_share * double(a.messages);
    if (!(burst || many_ips || guessed)) continue;
    Finding x = base_finding(f, "compromised_account", a, ActorKind::AuthAccount);
    x.client_ips = a.listed_ips();
    x.events = a.failed_logins;
    x.events_noun = "failed logins";
    std::string why;
    if (guessed) why += fmt::format(" after {} failed logins", a.failed_logins);
    if (bulk) why += fmt::format(", up to {} recipients per message", a.max_recipients);
    x.summary = fmt::format("account {} sent {} messages with {} recipients{}{}{}", a.key, a.messages, a.recipients,
                            ip_phrase(a), why, burst ? burst_phrase(a) : "");
    out.push_back(std::move(x));
  }
}

void client_ips(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  for (const auto& a : f.table(ActorKind::ClientIp).all()) {
    if (a.rejected_rcpts >= t.dictionary_min_rejects) {
      Finding x = base_finding(f, "dictionary_attack", a, ActorKind::ClientIp);
      x.events = a.rejected_rcpts;
      x.events_noun = "unknown recipients tried";
      x.score = double(a.rejected_rcpts);
      x.summary = fmt::format("{} tried {} unknown local recipients between {} and {} (dictionary attack)", a.key,
                              a.rejected_rcpts, format_civil(a.first), clock(a.last));
      out.push_back(std::move(x));
    }
    if (a.failed_logins >= t.bruteforce_min_failures) {
      Finding x = base_finding(f, "auth_bruteforce", a, ActorKind::ClientIp);
      x.events = a.failed_logins;
      x.events_noun = "failed logins";
      x.score = double(a.failed_logins);
      x.summary = fmt::format("{} failed {} SMTP logins between {} and {} (password guessing)", a.key, a.failed_logins,
                              format_civil(a.first), clock(a.last));
      out.push_back(std::move(x));
    }
  }
}

void spoofing_and_backscatter(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  for (const auto& a : f.table(ActorKind::SenderDomain).all()) {
    if (a.random_senders < t.random_min_senders) continue;
    if (double(a.random_senders) < t.random_min_share * double(a.distinct_senders)) continue;
    Finding x = base_finding(f, "random_sender_localparts", a, ActorKind::SenderDomain);
    x.events = a.random_senders;
    x.events_noun = "random local parts";
    x.score = double(a.random_senders);
    x.summary = fmt::format("{} random-looking local parts at {} in {} messages (spoofed senders)", a.random_senders,
                            a.key, a.messages);
    out.push_back(std::move(x));
  }
  double all_bounces = double(f.messages().bounces);
  for (const auto& a : f.table(ActorKind::BounceRecipient).all()) {
    if (a.messages < t.backscatter_min_bounces) continue;
    if (double(a.messages) < t.backscatter_min_share * all_bounces) continue;  // ordinary bounces
    // Bounces to one of our own users' (local or authenticated) senders are the echo of mail
    // it really sent, not backscatter to a forged address; its own finding covers it.
    const ActorStats* sender = f.table(ActorKind::Sender).find(a.key);
    if (sender && sender->trusted_submissions > 0) continue;
    Finding x = base_finding(f, "backscatter", a, ActorKind::BounceRecipient);
    x.events = a.messages;
    x.events_noun = "bounces";
    x.score = double(a.messages);
    x.summary = fmt::format("{} bounces to {} ({} frozen, {} failed, {} deferred) (backscatter)", a.messages, a.key,
                            a.frozen, a.failed, a.deferred);
    out.push_back(std::move(x));
  }
}

}  // namespace

bool is_burst(const ActorStats& a, const Thresholds& t) {
  if (!a.window()) return false;
  uint64_t peak = a.window()->peak_recipients();
  if (peak >= t.hard_recipients_per_window) return true;
  if (peak < t.burst_min_recipients) return false;
  double share = double(peak) / double(std::max<uint64_t>(1, a.recipients));
  double windows = std::max(1.0, double(a.last - a.first) / double(t.window_seconds));
  double factor = double(peak) / (double(a.recipients) / windows);
  return share >= t.burst_min_share || factor >= t.burst_min_factor;
}

std::vector<Finding> find_abuse(const Forensics& f) {
  std::vector<Finding> out;
  scripts_and_users(f, out);
  accounts(f, out);
  client_ips(f, out);
  spoofing_and_backscatter(f, out);
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.score > b.score; });
  return out;
}

}  // namespace sw::stats
