#include "stats/findings.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>

#include "base/ip_cidr.h"
#include "base/text.h"

namespace sw::stats {
namespace {

uint64_t percent(uint64_t part, uint64_t whole) { return whole ? (part * 100 + whole / 2) / whole : 0; }

std::string clock(CivilSeconds t) { return format_civil(t).substr(11, 5); }

// The end of a period that began at `from`: its clock time on the same day, else date and time
// ("between 2026-11-01 00:06:40 and 18:06" read as hours when it was a week).
std::string period_end(CivilSeconds from, CivilSeconds to) {
  std::string a = format_civil(from), b = format_civil(to);
  return a.compare(0, 10, b, 0, 10) == 0 ? b.substr(11, 5) : b;
}

std::string spoiled_list_phrase(const ActorStats& a, const Thresholds& t);

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

// ", run by the logins nobody and shop": a directory cron runs as its owner and the web
// server as its own user (a hijacked form) has two, and the admin must look at both.
std::string logins_phrase(const Finding& script) {
  if (script.local_users.empty()) return "";
  std::vector<std::string> names = script.local_users;
  if (script.more_local_users) names.push_back("others");
  return ", run by the logins " + join_with_and(names);
}

// Whether a script directory is this user's: the login that ran it, or the user's home in
// its path.
bool is_users_script(const ActorStats& script, std::string_view user) {
  if (script.extras && script.extras->logins.has(user)) return true;
  return script.key.find(fmt::format("/{}/", user)) != std::string_view::npos;
}

// A script whose window is a burst or a list mailed again: judged once, for every user it
// may belong to (most scripts are neither, and need not be judged again per user).
struct JudgedScript {
  const ActorStats* script;
  Burst burst;
};

std::vector<JudgedScript> judged_scripts(const Forensics& f) {
  std::vector<JudgedScript> out;
  for (const auto& s : f.table(ActorKind::Script).all())
    if (Burst b = burst_of(s, f.thresholds()); b != Burst::None) out.push_back({&s, b});
  return out;
}

// The mail of a user's scripts that are findings, and of those spared as lists mailed run
// after run.
struct UsersScripts {
  uint64_t flagged_messages = 0, flagged_recipients = 0, spared_recipients = 0;
};

UsersScripts scripts_of(const std::vector<JudgedScript>& scripts, std::string_view user) {
  UsersScripts out;
  for (const auto& [s, burst] : scripts) {
    if (!is_users_script(*s, user)) continue;
    if (burst == Burst::Burst) out.flagged_messages += s->messages, out.flagged_recipients += s->recipients;
    else out.spared_recipients += s->recipients;
  }
  return out;
}

// A user's burst that its scripts already account for, as findings or as lists mailed run
// after run: mostly its flagged scripts' mail, or too little beside its scripts' to be a
// burst of its own (a user with two nightly digests mails both lists: no one list's again).
bool accounted_for_by_scripts(const ActorStats& user, const UsersScripts& s, const Thresholds& t) {
  if (s.flagged_messages > 0 && s.flagged_messages * 2 >= user.messages) return true;
  uint64_t scripts = s.flagged_recipients + s.spared_recipients;
  return s.spared_recipients > 0 && user.recipients - std::min(user.recipients, scripts) < t.burst_min_recipients;
}

void scripts_and_users(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  std::vector<JudgedScript> scripts = judged_scripts(f);
  for (const auto& [script, burst] : scripts) {
    if (burst != Burst::Burst) continue;
    const ActorStats& a = *script;
    Finding x = base_finding(f, "spamming_script", a, ActorKind::Script);
    if (a.extras) {
      x.local_user = std::string(a.extras->logins.only());
      if (x.local_user.empty() && a.extras->logins.names.size() > 1) {
        x.local_users.assign(a.extras->logins.names.begin(), a.extras->logins.names.end());
        x.more_local_users = a.extras->logins.more;
      }
    }
    x.summary = fmt::format("script {} sent {} messages to {} recipients{}{}{}", a.key, a.messages, a.recipients,
                            burst_phrase(a), spoiled_list_phrase(a, t), logins_phrase(x));
    out.push_back(std::move(x));
  }
  for (const auto& a : f.table(ActorKind::LocalUser).all()) {
    // A user whose mail is mostly its flagged scripts' adds nothing new; one whose burst came
    // from sixty directories under the floor, one of them flagged, keeps its own finding (the
    // script's selection would take a twentieth of it).
    if (!is_burst(a, t) || accounted_for_by_scripts(a, scripts_of(scripts, a.key), t)) continue;
    Finding x = base_finding(f, "spamming_local_user", a, ActorKind::LocalUser);
    x.summary = fmt::format("local user {} sent {} messages to {} recipients{}{}", a.key, a.messages, a.recipients,
                            burst_phrase(a), spoiled_list_phrase(a, t));
    // No cwd= line names the directory of a script that talks SMTP to 127.0.0.1 itself.
    if (a.trusted_submissions > 0)
      x.summary += fmt::format(
          "; {} of them over SMTP without logging in, as cPanel's \"Sender identification\" names the user (a "
          "script or program of theirs talking SMTP itself: no cwd= line names its directory)",
          a.trusted_submissions == a.messages ? std::string("all") : std::to_string(a.trusted_submissions));
    out.push_back(std::move(x));
  }
}

// True when every failed login of this client IP named one and the same account.
bool names_one_account(const ActorStats& ip) {
  return ip.login_target != 0 && ip.login_target != ActorStats::kSeveralAccounts &&
         ip.login_target != ActorStats::kUnnamed;
}

// A few IPs retrying slowly, as a phone with an old password does on wifi and mobile data (a
// try every few minutes at most), rather than a botnet's hundreds of tries an hour.
bool device_like(uint64_t failures, size_t ips, int64_t seconds) {
  double hours = std::max(1.0, double(seconds) / 3600);
  return ips < 5 && double(failures) / double(ips) / hours <= 12;
}

// Whether an account's failed logins look like one of its own devices: the IPs whose
// failures all named it are few and slow, and kept on for hours (ten failures in a minute and
// then the mail are a password found, not a phone).
// The IPs that tried this account alone, and their failed logins.
struct AimedFailures {
  size_t ips = 0;
  uint64_t failures = 0;
};
AimedFailures aimed_at(const Forensics& f, const ActorStats& account) {
  uint64_t hash = ActorTable::key_hash(account.key, true);
  AimedFailures aimed;
  for (const auto& ip : f.table(ActorKind::ClientIp).all())
    if (names_one_account(ip) && ip.login_target == hash) ++aimed.ips, aimed.failures += ip.failed_logins;
  return aimed;
}

bool failures_look_like_a_device(const Forensics& f, const ActorStats& account) {
  constexpr int64_t kRetriesForHours = 3 * 3600;
  if (account.last_failed_login - account.first_failed_login < kRetriesForHours) return false;
  AimedFailures aimed = aimed_at(f, account);
  // Failures from IPs that tried other mailboxes too are a spray, not one device: all of them
  // must come from IPs that tried this account alone.
  return aimed.ips > 0 && aimed.failures >= account.failed_logins &&
         device_like(account.failed_logins, aimed.ips, account.last_failed_login - account.first_failed_login);
}

// Whether the account's mail could be a guesser's: some of it came from an IP that failed
// logins here; or guessing aimed at this account alone (IPs that tried no other) came after it
// had mailed, and then an address new to it mailed (checking and sending are often apart). A
// spray that tried 40 accounts while each kept mailing from its owners' addresses (home, office,
// a phone first used in the afternoon) got into none of them: the spray is its own finding.
// Without the account's IPs nothing can be told, and it counts as got into.
bool mailed_after_guessing(const Forensics& f, const ActorStats& account) {
  if (!account.extras || !account.extras->ips) return true;
  const AccountIps& ips = *account.extras->ips;
  const ActorTable& clients = f.table(ActorKind::ClientIp);
  for (uint64_t hash : ips.order) {
    std::optional<uint32_t> ip = clients.find_index(hash);
    if (ip && clients.all()[*ip].failed_logins > 0) return true;
  }
  CivilSeconds began = account.first_failed_login;
  const auto& seen = ips.first_seen;
  bool before = std::any_of(seen.begin(), seen.end(), [&](CivilSeconds t) { return t < began; });
  bool after = std::any_of(seen.begin(), seen.end(), [&](CivilSeconds t) { return t >= began; });
  if (!before || !after) return false;
  return aimed_at(f, account).failures >= f.thresholds().account_failed_logins;
}

// The most client IPs an account was first used from within 24 hours: a stolen password in a
// botnet's hands, not a phone moving between networks over a week (13 IPs in 7 days).
// (accounts() also takes three times the floor over the whole log: a botnet adding nine a day.)
size_t most_new_ips_in_a_day(const ActorStats& a) {
  if (!a.extras || !a.extras->ips) return 0;
  std::vector<CivilSeconds> times = a.extras->ips->first_seen;
  std::sort(times.begin(), times.end());
  size_t most = 0;
  for (size_t begin = 0, end = 0; end < times.size(); ++end) {
    while (times[end] - times[begin] >= 86400) ++begin;
    most = std::max(most, end - begin + 1);
  }
  return most;
}

std::string different(const ActorStats& a);

// The different rejected addresses a dictionary attack names, at most as many as are kept.
uint64_t dictionary_distinct_floor(const Thresholds& t) {
  return std::min<uint64_t>(t.dictionary_min_distinct, ActorExtras::kMaxDistinctRejected);
}

// Whether a logged-in session tried our unknown recipients as a dictionary attack does:
// someone with the account's password harvesting addresses (an office's typos are a few each).
bool harvested(const ActorStats& account, const Thresholds& t) {
  return account.rejected_rcpts >= t.dictionary_min_rejects &&
         account.distinct_rejected() >= dictionary_distinct_floor(t);
}

void accounts(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  for (const auto& a : f.table(ActorKind::AuthAccount).all()) {
    bool harvesting = harvested(a, t);
    if (a.recipients < t.account_min_recipients && !harvesting) continue;
    // Any of these says "someone else is using it"; a big message alone does not (newsletters),
    // nor a list mailed run after run (a newsletter sent through the account on a schedule).
    Burst shape = burst_of(a, t);
    // A list mailed run after run, but by an account others failed to log in as: its owner's
    // newsletter, or someone who found the password; its burst counts.
    bool list_after_failures = shape == Burst::ListMailedAgain && a.failed_logins >= t.account_failed_logins;
    bool burst = shape == Burst::Burst || list_after_failures;
    bool bulk = a.max_recipients >= t.many_recipients;
    bool many_ips = most_new_ips_in_a_day(a) >= t.account_min_ips || a.client_ip_count() >= 3 * t.account_min_ips;
    // Failed logins count when they are many and not the odd typo of a busy account.
    bool many_failures = a.failed_logins >= t.account_failed_logins &&
                         double(a.failed_logins) >= t.account_failed_share * double(a.messages);
    // They make a finding when the mail may be the guessers' (a spray that tried it did not);
    // beside another reason they are told either way.
    bool guessed = many_failures && mailed_after_guessing(f, a);
    if (!(burst || many_ips || guessed || harvesting)) continue;
    Finding x = base_finding(f, "compromised_account", a, ActorKind::AuthAccount);
    x.client_ips = a.listed_ips();
    x.events = a.failed_logins;
    x.events_noun = "failed logins";
    std::string why;
    // Failures before its burst (or, without one, its first mail) read as a way in. A list
    // mailed again is no reason of its own, but its busiest hour is still told.
    bool told_burst = shape != Burst::None;
    CivilSeconds began = told_burst ? a.window()->peak_first() : a.first;
    if (many_failures || list_after_failures)
      why += fmt::format(" {} {} failed logins", a.first_failed_login <= began ? "after" : "and", a.failed_logins);
    if (list_after_failures)
      why += fmt::format(
          " (its burst mailed the list it mails run after run: its own newsletter{}, or someone who found the "
          "password)",
          failures_look_like_a_device(f, a) ? ", beside failures at a device's pace (a phone with the old password?)"
                                            : "");
    if (harvesting)
      why +=
          fmt::format(", and tried {} unknown local recipients ({}) while logged in", a.rejected_rcpts, different(a));
    if (bulk) why += fmt::format(", up to {} recipients per message", a.max_recipients);
    // A phone with an old password retries for days beside the account's ordinary mail: said,
    // not excused (slow guessing by a few IPs that then send looks the same).
    if (guessed && !burst && !many_ips && !harvesting && failures_look_like_a_device(f, a))
      why += " (the failures came at a device's pace: perhaps a phone with the old password; check before suspending)";
    x.summary = fmt::format("account {} sent {} messages with {} recipients{}{}{}", a.key, a.messages, a.recipients,
                            ip_phrase(a), why, told_burst ? burst_phrase(a) : "");
    if (shape == Burst::Burst) x.summary += spoiled_list_phrase(a, t);
    out.push_back(std::move(x));
  }
}

// One kind of attempt from client IPs (unknown recipients tried, failed logins): what makes
// a per-IP finding and how it reads.
struct AttemptKind {
  const char* kind;
  const char* campaign_kind;
  const char* noun;
  const char* what;  // "dictionary attack", "password guessing"
  uint32_t ActorStats::*count;
  uint64_t floor;
  // The attempts' own period, not the IP's mail before or after.
  CivilSeconds (*first_at)(const ActorStats&);
  CivilSeconds (*last_at)(const ActorStats&);
  // Unknown recipients: the different addresses they named, at least (0: not asked).
  uint64_t distinct_floor = 0;
};

bool over_floor(const ActorStats& a, const AttemptKind& k) {
  return a.*k.count >= k.floor && (k.distinct_floor == 0 || a.distinct_rejected() >= k.distinct_floor);
}

// "12 different", or "64 or more different" where the kept addresses end.
std::string different(const ActorStats& a) {
  size_t n = a.distinct_rejected();
  return n >= ActorExtras::kMaxDistinctRejected ? fmt::format("{} or more different", n)
                                                : fmt::format("{} different", n);
}

CivilSeconds first_rejection(const ActorStats& a) { return a.first_rejection(); }
CivilSeconds last_rejection(const ActorStats& a) { return a.last_rejection(); }
CivilSeconds first_failed_login(const ActorStats& a) { return a.first_failed_login; }
CivilSeconds last_failed_login(const ActorStats& a) { return a.last_failed_login; }

// The period a group of IPs' attempts span (first_at, last_at: an AttemptKind's).
std::pair<CivilSeconds, CivilSeconds> period_of(const std::vector<const ActorStats*>& ips,
                                                CivilSeconds (*first_at)(const ActorStats&),
                                                CivilSeconds (*last_at)(const ActorStats&)) {
  CivilSeconds first = 0, last = 0;
  for (const ActorStats* a : ips) {
    if (first_at(*a) && (first == 0 || first_at(*a) < first)) first = first_at(*a);
    last = std::max(last, last_at(*a));
  }
  return {first, last};
}

// The account a client IP's failed logins all named, as the account table spells it; "" when
// they named several (or none).
std::string login_target_of(const Forensics& f, const ActorStats& ip) {
  if (!names_one_account(ip)) return "";
  const ActorTable& accounts = f.table(ActorKind::AuthAccount);
  auto index = accounts.find_index(ip.login_target);
  return index ? std::string(accounts.all()[*index].key) : "";
}

// The client IPs the floors apply to. IPv6 addresses are taken together by their /64: a host
// given a /64 can use a new address for every attempt, each under the per-IP floor. A /64 of
// one address stays that address.
struct Clients {
  std::vector<const ActorStats*> list;  // in the table's order; a /64 where its first address was
  std::deque<ActorStats> networks;      // the /64s' sums, keyed "2001:db8:1:2::/64"
  std::deque<std::string> keys;
  std::unordered_map<const ActorStats*, std::vector<const ActorStats*>> members;  // of each /64
};

// "2001:db8:1:2::/64" for an IPv6 address, "" for anything else.
std::string v6_network(std::string_view ip) {
  if (ip.find(':') == std::string_view::npos) return "";
  std::optional<IpAddress> a = parse_ip(ip);
  if (!a || !a->v6 || !without_v4_mapping(*a).v6) return "";
  std::fill(a->bytes.begin() + 8, a->bytes.end(), uint8_t(0));
  return format_ip(*a) + "/64";
}

// A /64's counts: the sums of its addresses', their attempts' period, the addresses they named.
void add_to_network(ActorStats& n, const ActorStats& a) {
  auto earliest = [](CivilSeconds& x, CivilSeconds y) { x = x == 0 || (y != 0 && y < x) ? y : x; };
  n.messages += a.messages, n.recipients += a.recipients;
  n.rejected_rcpts += a.rejected_rcpts, n.failed_logins += a.failed_logins;
  earliest(n.first, a.first), n.last = std::max(n.last, a.last);
  earliest(n.first_failed_login, a.first_failed_login);
  n.last_failed_login = std::max(n.last_failed_login, a.last_failed_login);
  n.login_target = ActorStats::joined_login_target(n.login_target, a.login_target);
  if (!n.extras) n.extras = std::make_unique<ActorExtras>();
  earliest(n.extras->first_rejection, a.first_rejection());
  n.extras->last_rejection = std::max(n.extras->last_rejection, a.last_rejection());
  if (a.extras)
    for (uint32_t h : a.extras->rejected_addresses) n.extras->note_rejected_address(h);
}

Clients clients_of(const Forensics& f, uint32_t ActorStats::*count, const std::vector<bool>& taken) {
  Clients c;
  const auto& ips = f.table(ActorKind::ClientIp).all();
  auto attempted = [&](uint32_t i) { return ips[i].*count != 0 && !(i < taken.size() && taken[i]); };
  std::vector<std::string> network(ips.size());
  std::unordered_map<std::string, std::vector<const ActorStats*>> by_network;
  for (uint32_t i = 0; i < ips.size(); ++i) {
    if (!attempted(i)) continue;
    network[i] = v6_network(ips[i].key);
    if (!network[i].empty()) by_network[network[i]].push_back(&ips[i]);
  }
  // A /64 whose addresses sent more mail here than they failed (a provider's outbound servers
  // meeting a few deleted mailboxes, an office's staff mistyping a password now and then) is
  // busy, not one attacker: its addresses stay apart.
  std::erase_if(by_network, [&](const auto& net) {
    uint64_t attempts = 0, messages = 0;
    for (const ActorStats* a : net.second) attempts += a->*count, messages += a->messages;
    return net.second.size() < 2 || messages >= attempts;
  });
  for (uint32_t i = 0; i < ips.size(); ++i) {
    if (!attempted(i)) continue;
    auto it = network[i].empty() ? by_network.end() : by_network.find(network[i]);
    if (it == by_network.end()) {
      c.list.push_back(&ips[i]);
      continue;
    }
    if (it->second.front() != &ips[i]) continue;  // the /64 stands where its first address was
    ActorStats& n = c.networks.emplace_back();
    n.key = c.keys.emplace_back(network[i]);
    for (const ActorStats* a : it->second) add_to_network(n, *a);
    c.members[&n] = it->second;  // a copy: the next members look for the first one there
    c.list.push_back(&n);
  }
  return c;
}

// Sorts a group's client IPs, most attempts first, then by address, and lists the top ten with
// their counts in `c` ("IP (N)").
void list_group_ips(std::vector<const ActorStats*>& ips, uint32_t ActorStats::*count, Finding& c) {
  std::sort(ips.begin(), ips.end(), [&](const ActorStats* a, const ActorStats* b) {
    return a->*count != b->*count ? a->*count > b->*count : a->key < b->key;
  });
  for (size_t i = 0; i < ips.size() && i < 10; ++i)
    c.client_ips.push_back(fmt::format("{} ({})", ips[i]->key, ips[i]->*count));
}

Finding ip_finding(const Forensics& f, const AttemptKind& k, const ActorStats& a, const Clients& clients) {
  Finding x = base_finding(f, k.kind, a, ActorKind::ClientIp);
  x.events = a.*k.count;
  std::string addresses;
  if (auto m = clients.members.find(&a); m != clients.members.end()) {
    std::vector<const ActorStats*> members = m->second;
    list_group_ips(members, k.count, x);
    x.client_ip_count = members.size();
    x.evidence = f.evidence_lines(*members.front());
    addresses = fmt::format(" ({} addresses)", members.size());
  }
  x.events_noun = k.noun;
  x.score = double(x.events);
  bool dictionary = k.count == &ActorStats::rejected_rcpts;
  if (!dictionary) x.login_target = login_target_of(f, a);
  std::string as = !x.login_target.empty()                          ? " as " + x.login_target
                   : a.login_target == ActorStats::kSeveralAccounts ? " for several accounts"
                                                                    : "";
  std::string from = format_civil(k.first_at(a)), to = period_end(k.first_at(a), k.last_at(a));
  x.summary = dictionary
                  ? fmt::format("{}{} tried {} unknown local recipients ({}) between {} and {} (dictionary attack)",
                                a.key, addresses, x.events, different(a), from, to)
                  : fmt::format("{}{} failed {} SMTP logins{} between {} and {} (password guessing)", a.key, addresses,
                                x.events, as, from, to);
  return x;
}

// The client IPs of a group finding (a campaign, one account's guessers), most attempts first,
// then by address: puts the top ten with their counts and the first two's evidence in `c`, and
// returns the top three as the summary names them ("IP (N), IP (N), IP (N)").
std::string rank_group_ips(const Forensics& f, std::vector<const ActorStats*>& ips, uint32_t ActorStats::*count,
                           Finding& c) {
  list_group_ips(ips, count, c);
  std::string top;
  for (size_t i = 0; i < ips.size() && i < 3; ++i) {
    top += fmt::format("{}{} ({})", i ? ", " : "", ips[i]->key, ips[i]->*count);
    if (i < 2) {
      auto lines = f.evidence_lines(*ips[i]);
      c.evidence.insert(c.evidence.end(), lines.begin(), lines.begin() + long(std::min<size_t>(lines.size(), 2)));
    }
  }
  return top;
}

// Many accounts each guessed by IPs of their own (a botnet given a list of mailboxes, an IP
// per mailbox) are one campaign: one finding with the accounts' and IPs' counts, the failures
// of all, the period, the most guessed accounts and the top IPs, not one finding per account.
// An account with a large share of the failures keeps its own finding as well.
void account_guessing_campaign(const Forensics& f, std::vector<Finding>& guessed,
                               const std::vector<std::vector<const ActorStats*>>& guessers, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  uint64_t total = 0;
  std::vector<const ActorStats*> all_ips;
  for (size_t i = 0; i < guessed.size(); ++i) {
    total += guessed[i].events;
    all_ips.insert(all_ips.end(), guessers[i].begin(), guessers[i].end());
  }
  std::vector<size_t> order(guessed.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return guessed[a].events > guessed[b].events; });
  std::string accounts;
  for (size_t i = 0; i < order.size() && i < 3; ++i)
    accounts += fmt::format("{}{} ({})", i ? ", " : "", guessed[order[i]].actor, guessed[order[i]].events);
  Finding c;
  c.kind = "account_guessing_campaign";
  c.actor_kind = ActorKind::ClientIp;  // the attackers: what the block commands are for
  c.actor = fmt::format("{} client IPs", all_ips.size());
  c.client_ip_count = all_ips.size();
  c.events = total;
  c.events_noun = "failed logins";
  c.score = double(total);
  auto [first, last] = period_of(all_ips, first_failed_login, last_failed_login);
  std::string top = rank_group_ips(f, all_ips, &ActorStats::failed_logins, c);
  c.summary = fmt::format(
      "{} failed logins at {} accounts from {} client IPs, each IP trying one account, between {} and {} (password "
      "guessing spread over a list of accounts); most tried: {}; top IPs: {}",
      total, guessed.size(), all_ips.size(), format_civil(first), format_civil(last), accounts, top);
  out.push_back(std::move(c));
  for (auto& g : guessed)
    if (double(g.events) >= t.campaign_dominant_share * double(total)) out.push_back(std::move(g));
}

// Client IPs (3 or more) that each tried one and the same account, several times, are one attack on it,
// even when each stays under the per-IP floor (a botnet spreads its guesses to stay under
// per-IP limits): one finding keyed by the account, with its IPs, which leave the per-IP
// findings. An IP that tried a name once (the background of bots trying "admin" or "sales"
// once each) is not counted. Many accounts guessed that way are one campaign (see below).
// Whether `out` already holds a compromised_account finding for this account: its guessing
// is then no phone with an old password.
bool found_compromised(const std::vector<Finding>& out, std::string_view account) {
  return std::any_of(out.begin(), out.end(),
                     [&](const Finding& x) { return x.kind == "compromised_account" && iequals(x.actor, account); });
}

// True for the IPs it took.
std::vector<bool> account_guessing(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  const auto& ips = f.table(ActorKind::ClientIp).all();
  std::vector<bool> taken(ips.size(), false);
  struct Target {
    std::vector<uint32_t> ips;
    uint64_t failures = 0;
  };
  std::map<uint64_t, Target> targets;  // ordered: the same findings in the same order every run
  for (uint32_t i = 0; i < ips.size(); ++i) {
    const ActorStats& ip = ips[i];
    if (ip.failed_logins < t.guessing_min_per_ip || !names_one_account(ip)) continue;
    Target& target = targets[ip.login_target];
    target.ips.push_back(i);
    target.failures += ip.failed_logins;
  }
  std::vector<Finding> guessed;  // one per account
  std::vector<std::vector<const ActorStats*>> guessers;
  for (auto& [hash, target] : targets) {
    if (target.ips.size() < t.guessing_min_ips || target.failures < t.bruteforce_min_failures) continue;
    std::string account = login_target_of(f, ips[target.ips.front()]);
    if (account.empty()) continue;
    Finding c;
    c.kind = "account_guessing";
    c.actor_kind = ActorKind::AuthAccount;
    c.actor = account;
    c.login_target = account;
    c.client_ip_count = target.ips.size();
    c.events = target.failures;
    c.events_noun = "failed logins";
    c.score = double(target.failures);
    std::vector<const ActorStats*> members;
    for (uint32_t i : target.ips) {
      taken[i] = true;
      members.push_back(&ips[i]);
    }
    // The guessing's period, not the IPs' later mail.
    auto [first, last] = period_of(members, first_failed_login, last_failed_login);
    std::string top = rank_group_ips(f, members, &ActorStats::failed_logins, c);
    c.summary = fmt::format(
        "{} failed logins as {} from {} client IPs that tried no other account, between {} and {} (password "
        "guessing aimed at this account{}); top: {}",
        target.failures, account, target.ips.size(), format_civil(first), format_civil(last),
        device_like(target.failures, target.ips.size(), last - first) && !found_compromised(out, account)
            ? ", or a device still trying an old password"
            : "",
        top);
    guessed.push_back(std::move(c));
    guessers.push_back(std::move(members));
  }
  if (guessed.size() < t.campaign_min_ips) {
    for (auto& c : guessed) out.push_back(std::move(c));
    return taken;
  }
  account_guessing_campaign(f, guessed, guessers, out);
  return taken;
}

// Many IPs each over the per-IP floor are one botnet's campaign: one finding with their count,
// totals and top IPs, not one per IP. An IP holding a large share of it keeps its own finding.
void ip_attempts(const Forensics& f, const AttemptKind& k, std::vector<Finding>& out,
                 const std::vector<bool>& taken = {}) {
  const Thresholds& t = f.thresholds();
  std::vector<const ActorStats*> over;
  uint64_t total = 0;
  Clients clients = clients_of(f, k.count, taken);
  for (const ActorStats* a : clients.list)
    if (over_floor(*a, k)) {
      over.push_back(a);
      total += a->*k.count;
    }
  if (over.size() < t.campaign_min_ips) {
    for (const ActorStats* a : over) out.push_back(ip_finding(f, k, *a, clients));
    return;
  }
  Finding c;
  std::string top = rank_group_ips(f, over, k.count, c);  // first: the IPs below go in this order
  c.kind = k.campaign_kind;
  c.actor_kind = ActorKind::ClientIp;
  c.actor = fmt::format("{} client IPs", over.size());
  c.client_ip_count = over.size();
  c.events = total;
  c.events_noun = k.noun;
  c.score = double(total);
  auto [first, last] = period_of(over, k.first_at, k.last_at);
  for (const ActorStats* a : over) {
    c.messages += a->messages;
    c.recipients += a->recipients;
    if (double(a->*k.count) >= t.campaign_dominant_share * double(total)) out.push_back(ip_finding(f, k, *a, clients));
  }
  c.summary =
      fmt::format("{} client IPs, each with {}+ {}, {} {} in all between {} and {} ({} campaign); top: {}", over.size(),
                  k.floor, k.noun, total, k.noun, format_civil(first), format_civil(last), k.what, top);
  out.push_back(std::move(c));
}

// Marks the IPs over the failed-login floor that an office's staff share: at least three
// accounts logged in and mailed from there, they mailed more than they failed, the failures are
// a few per such account (typos, a phone with an old password), not one attacker's hundreds, and
// no more than those accounts' own failed logins (the failures named the office's accounts, not
// others: mailboxes made to mail from an attacker's address do not hide its guesses at others).
// A guesser that got into an account or two stays: its failures are many per account.
void mark_shared_offices(const Forensics& f, std::vector<bool>& taken) {
  constexpr uint32_t kMinAccounts = 3, kMaxFailuresPerAccount = 3;
  const Thresholds& t = f.thresholds();
  const auto& ips = f.table(ActorKind::ClientIp).all();
  struct Mailing {
    uint32_t accounts = 0;
    uint64_t their_failures = 0;  // the failed logins of those accounts, from anywhere
  };
  std::unordered_map<uint64_t, Mailing> candidates;  // by the IP's key hash
  for (uint32_t i = 0; i < ips.size(); ++i)
    if (ips[i].failed_logins >= t.bruteforce_min_failures && ips[i].messages >= ips[i].failed_logins)
      candidates.emplace(ActorTable::key_hash(ips[i].key), Mailing{});
  if (candidates.empty()) return;
  for (const auto& account : f.table(ActorKind::AuthAccount).all()) {
    if (account.messages == 0 || !account.extras || !account.extras->ips) continue;
    for (uint64_t ip : account.extras->ips->order)
      if (auto it = candidates.find(ip); it != candidates.end())
        ++it->second.accounts, it->second.their_failures += account.failed_logins;
  }
  taken.resize(ips.size(), false);
  for (uint32_t i = 0; i < ips.size(); ++i) {
    auto it = candidates.find(ActorTable::key_hash(ips[i].key));
    if (it == candidates.end() || it->second.accounts < kMinAccounts) continue;
    uint64_t failures = ips[i].failed_logins;
    if (failures <= uint64_t(kMaxFailuresPerAccount) * it->second.accounts && failures <= it->second.their_failures)
      taken[i] = true;
  }
}

void client_ips(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  ip_attempts(f,
              {"dictionary_attack", "dictionary_campaign", "unknown recipients tried", "dictionary attack",
               &ActorStats::rejected_rcpts, t.dictionary_min_rejects, first_rejection, last_rejection,
               dictionary_distinct_floor(t)},
              out);
  std::vector<bool> guessing_one_account = account_guessing(f, out);
  mark_shared_offices(f, guessing_one_account);  // neither guessing nor a campaign's member
  ip_attempts(f,
              {"auth_bruteforce", "auth_bruteforce_campaign", "failed logins", "password guessing",
               &ActorStats::failed_logins, t.bruteforce_min_failures, first_failed_login, last_failed_login},
              out, guessing_one_account);
}

void spoofing_and_backscatter(const Forensics& f, std::vector<Finding>& out) {
  const Thresholds& t = f.thresholds();
  for (const auto& a : f.table(ActorKind::SenderDomain).all()) {
    if (a.random_senders < t.random_min_senders) continue;
    if (double(a.random_senders) < t.random_min_share * double(a.distinct_senders)) continue;
    // Only a domain we send as (mail handed in here, logged in, or from this host used it):
    // others' mail with machine-made senders (Amazon SES, every bulk sender's VERP) is theirs.
    if (a.trusted_submissions == 0) continue;
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
    // A share of all bounces, or bounces that froze or failed by their number: on a big server
    // 200 frozen bounces to one address are under 2% of its bounces, and still a finding. Not
    // their sum: a bounce that failed is then frozen, and would count twice.
    bool stuck = std::max(a.frozen, a.failed) >= t.backscatter_min_stuck;
    if (!stuck && double(a.messages) < t.backscatter_min_share * all_bounces) continue;  // ordinary bounces
    // Bounces to one of our own users' (local or authenticated) senders are the echo of mail
    // it really sent, not backscatter to a forged address. Unless they stick: a hijacked form
    // sending as `-f somestranger@live.com` has its bounces refused by that address, and they
    // freeze here by the hundred, which the script's or account's queue selection does not take.
    const ActorStats* sender = f.table(ActorKind::Sender).find(a.key);
    // (A list's bounce address that posted from this host counts as ours: Forensics::on_arrival.)
    bool own_sender = sender && sender->trusted_submissions > 0;
    // Nor when other servers sent it more bounces than it mailed recipients from here (and a
    // finding's floor of them): no echo of its own mail, but spam sent elsewhere in its name.
    bool forged_elsewhere =
        own_sender && a.trusted_submissions >= t.backscatter_min_bounces && a.trusted_submissions > sender->recipients;
    if (own_sender && !stuck && !forged_elsewhere) continue;
    // Bounces Exim made here that went (or wait: a full mailbox) to a mailbox here are one of
    // our users' own, for mail it sent before these logs begin: nothing left this server, and
    // the cleanup would remove that user's real bounces. (Bounces other servers sent it are
    // told below: its address forged elsewhere.)
    // A few bounces other servers sent it beside them (one ordinary bounce) do not make the
    // rest backscatter; as many as a finding's floor are told, as spam forging it elsewhere.
    bool mailbox_here = a.rejected_rcpts > 0;
    if (mailbox_here && a.trusted_submissions < t.backscatter_min_bounces) continue;
    Finding x = base_finding(f, "backscatter", a, ActorKind::BounceRecipient);
    x.events = a.messages;
    x.events_noun = "bounces";
    x.score = double(a.messages);
    x.bounces_from_elsewhere = a.trusted_submissions;
    // Outcomes per recipient (a bounce has one): failed ones are frozen too, so they overlap.
    x.summary = fmt::format("{} bounces to {}: {} delivered, {} failed, {} deferred; {} frozen", a.messages, a.key,
                            a.delivered, a.failed, a.deferred, a.frozen);
    // Bounces other servers sent: spam elsewhere forged this address, and they bounced it
    // here; nothing of ours sent it, and nothing for the queue to remove.
    if (x.bounces_from_elsewhere == x.events)
      x.summary +=
          "; all from other servers (spam sent elsewhere in this address's name: SPF and DMARC for its "
          "domain let them refuse it instead)";
    else if (x.bounces_from_elsewhere)
      x.summary += fmt::format("; {} of them from other servers", x.bounces_from_elsewhere);
    if (forged_elsewhere && !stuck)
      x.summary += fmt::format(
          "; it sends mail from here too, {} messages to {} recipients: fewer than the bounces other servers "
          "sent it",
          sender->trusted_submissions, sender->recipients);
    else if (own_sender && !mailbox_here)
      x.summary += fmt::format(
          "; the sender of {} messages from here: the bounces of that mail, refused by the address it "
          "gave (forged, or one that takes no mail)",
          sender->trusted_submissions);
    out.push_back(std::move(x));
  }
}

// An account's known list mailed again from a client IP it first used in that very burst: a
// stolen password re-using the owner's list, not the owner's schedule. (A list's first run
// comes from IPs new then too: most of its addresses were first mailed before the burst.)
bool known_list_from_a_new_ip(const ActorStats& a, const RecipientSample& named) {
  if (!a.extras->ips) return false;
  const PeakWindow& w = *a.window();
  const auto& seen = a.extras->ips->first_seen;
  if (std::none_of(seen.begin(), seen.end(), [&](CivilSeconds t) { return t >= w.peak_first() && t <= w.peak_last(); }))
    return false;
  size_t again = 0, before = 0;
  for (const auto& e : named.entries())
    if (e.again()) ++again, before += e.first < w.peak_first();
  return 2 * before > again;
}

// How an actor's busiest window compares with a list it mails run after run. A digest or
// newsletter run by cron names the same list every night: nearly every address it mailed, it
// mailed again in a later run, and its busiest hour mailed that list once (all it ever
// mailed, give or take half). A hijacked script names new addresses (a fifth of the sample,
// or half the list again); a loop or a mail bomb mails the list over in one hour.
struct ListCheck {
  bool list = false;      // its busiest window mailed such a list
  double fresh_peak = 0;  // mail to new addresses within one window, estimated
  double repeated = 0;    // messages naming an address more than a few times a run, estimated
  bool new_ip = false;    // an account's known list, from a client IP first used in the burst
  // Mail to new addresses came spread out, never half a burst's floor within a window (a
  // hijack's new addresses, or a mail bomb's few named again and again, come at once); nor did
  // any address, new or the list's, get half a floor of messages beyond a few a run.
  bool spared(const Thresholds& t) const {
    double half_floor = double(t.burst_min_recipients) / 2;
    return list && fresh_peak < half_floor && repeated < half_floor && !new_ip;
  }
};

ListCheck list_check(const ActorStats& a) {
  ListCheck c;
  const RecipientSample* named = a.extras ? a.extras->named.get() : nullptr;
  if (!named || !a.window()) return c;
  const PeakWindow& w = *a.window();
  double peak = double(w.peak_recipients());
  auto mails_the_list_once = [&](double list) { return list <= 1.5 * peak && peak <= 1.5 * list; };
  auto around = named->around_peak(w.peak_first(), w.peak_last(), w.span());
  // Nearly all it mailed was the list; or, beside a site's one-off mail from the same
  // directory (orders, password resets), nearly all its busiest window may have named.
  c.list = (named->mostly_mailed_again() && mails_the_list_once(named->distinct())) ||
           (around.mailed_again && mails_the_list_once(around.list));
  c.fresh_peak = around.fresh_peak, c.repeated = around.repeated;
  c.new_ip = c.list && known_list_from_a_new_ip(a, *named);
  return c;
}

// Why a burst that mailed a list run after run is one all the same ("" when it is not such).
std::string spoiled_list_phrase(const ActorStats& a, const Thresholds& t) {
  ListCheck c = list_check(a);
  if (!c.list || c.spared(t)) return "";
  std::string lead = "; its busiest window mailed a list it mails run after run, but ";
  double half_floor = double(t.burst_min_recipients) / 2;
  if (c.new_ip) return lead + "from a client IP first used then (someone else re-using the list?)";
  if (c.repeated >= half_floor)
    return lead +
           fmt::format("about {:.0f} messages named a few addresses again and again (a mail bomb, or a looped form?)",
                       c.repeated);
  return lead +
         fmt::format("about {:.0f} messages to new addresses came within {} (a hijack's, or one-off mail in a rush)",
                     c.fresh_peak, format_duration(a.window()->span()));
}

}  // namespace

Burst burst_of(const ActorStats& a, const Thresholds& t) {
  if (!a.window()) return Burst::None;
  uint64_t peak = a.window()->peak_recipients();
  if (peak >= t.hard_recipients_per_window) return Burst::Burst;
  if (peak < t.burst_min_recipients) return Burst::None;
  bool list_mailed_again = list_check(a).spared(t);
  // One big message (a newsletter to a list) and a few small ones fill a window without being a
  // burst of mail: without the largest the window, and all the actor's mail, would be under the
  // floor. Four messages of 225 from a stolen account are a burst, and so are huge messages
  // an hour apart (the second one is over the floor).
  constexpr uint64_t kFewMessages = 10;
  uint64_t largest = std::min<uint64_t>(peak, a.max_recipients);
  if (a.window()->peak_messages() < kFewMessages && peak - largest < t.burst_min_recipients &&
      a.recipients - std::min<uint64_t>(a.recipients, a.max_recipients) < t.burst_min_recipients)
    return Burst::None;
  double share = double(peak) / double(std::max<uint64_t>(1, a.recipients));
  double windows = std::max(1.0, double(a.last - a.first) / double(t.window_seconds));
  double factor = double(peak) / (double(a.recipients) / windows);
  if (share < t.burst_min_share && factor < t.burst_min_factor) return Burst::None;
  return list_mailed_again ? Burst::ListMailedAgain : Burst::Burst;
}

namespace {

// A burst spared as a list mailed run after run, as the report tells it: the list is the
// sampled addresses mailed again, the others (a shop's order mail beside its digest) apart.
ListMailing list_mailing(const ActorStats& a, ActorKind kind) {
  const RecipientSample& named = *a.extras->named;
  std::vector<uint32_t> runs;
  for (const auto& e : named.entries())
    if (e.again()) runs.push_back(e.runs);
  double list = double(runs.size()) * named.each_stands_for();
  if (runs.empty()) runs.push_back(0);  // none is spared so: a list is mostly mailed again
  std::nth_element(runs.begin(), runs.begin() + long(runs.size() / 2), runs.end());
  ListMailing x{kind,
                std::string(a.key),
                a.messages,
                a.recipients,
                a.window()->peak_recipients(),
                uint64_t(list + 0.5),
                uint64_t(std::max(0.0, named.distinct() - list) + 0.5),
                runs[runs.size() / 2],
                a.first,
                a.last,
                ""};
  // Told when they are more than the sample's noise: a fifth of all it mailed.
  std::string others = 5 * x.others >= x.list + x.others
                           ? fmt::format(" (and about {} other addresses mailed once or twice, spread out)", x.others)
                           : "";
  x.summary = fmt::format(
      "{} {} sent {} messages to {} recipients{}{}: a list of about {} addresses, each mailed in about {} runs 12 "
      "hours or more apart{} ({} to {}). Not flagged, as a digest or newsletter sent on a schedule; {}",
      kind == ActorKind::Script      ? "script"
      : kind == ActorKind::LocalUser ? "local user"
                                     : "account",
      a.key, a.messages, a.recipients, kind == ActorKind::AuthAccount ? ip_phrase(a) : "", burst_phrase(a), x.list,
      x.runs, others, format_civil(a.first), format_civil(a.last),
      kind == ActorKind::AuthAccount
          ? "a stolen password mailing one list night after night from these IPs looks the same"
          : "a spammer's cron job mailing one list night after night looks the same");
  return x;
}

}  // namespace

std::vector<ListMailing> lists_mailed_again(const Forensics& f, const std::vector<Finding>& findings) {
  std::vector<ListMailing> out;
  std::vector<JudgedScript> scripts = judged_scripts(f);
  for (ActorKind kind : {ActorKind::Script, ActorKind::LocalUser, ActorKind::AuthAccount}) {
    for (const auto& a : f.table(kind).all()) {
      if (burst_of(a, f.thresholds()) != Burst::ListMailedAgain) continue;
      // An account found for its IPs or failed logins is no list's, whatever it mailed.
      if (std::any_of(findings.begin(), findings.end(),
                      [&](const Finding& x) { return x.actor_kind == kind && x.actor == a.key; }))
        continue;
      // A user whose scripts are listed or found says nothing they do not.
      if (kind == ActorKind::LocalUser) {
        UsersScripts mine = scripts_of(scripts, a.key);
        if (mine.flagged_messages > 0 || accounted_for_by_scripts(a, mine, f.thresholds())) continue;
      }
      out.push_back(list_mailing(a, kind));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ListMailing& a, const ListMailing& b) { return a.recipients > b.recipients; });
  return out;
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
