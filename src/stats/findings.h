// Turns the counted actors into findings: what looks like abuse, with the numbers and the
// log lines that show it. Pure: reads a finished Forensics, allocates the result.
#pragma once
#include <string>
#include <vector>

#include "stats/forensics.h"

namespace sw::stats {

struct Finding {
  std::string kind;  // spamming_script, compromised_account, dictionary_attack, ...
  ActorKind actor_kind;
  std::string actor;
  uint64_t messages = 0;
  uint64_t recipients = 0;
  uint64_t peak_messages = 0, peak_recipients = 0;  // in the densest window, when it applies
  CivilSeconds peak_first = 0, peak_last = 0;
  uint64_t events = 0;                   // rejections, failed logins, bounces: what the finding counts
  const char* events_noun = "events";    // what `events` counts, in words ("failed logins")
  std::vector<std::string> client_ips;   // campaigns: the top IPs, "IP (count)"
  uint64_t client_ip_count = 0;          // campaigns: how many IPs took part
  std::string local_user;                // spamming_script: the login that ran the script, when one did
  std::vector<std::string> local_users;  // spamming_script run by several logins: the first few (byte order)
  bool more_local_users = false;         // and others besides
  std::string login_target;              // auth_bruteforce: the one account it tried, or "" (several)
  uint64_t bounces_from_elsewhere = 0;   // backscatter: bounces other servers sent, not Exim here
  // backscatter: all of them made here, so Exim's cleanup takes only ours (none of the
  // bounces other servers sent to one of our users, which are that user's)
  bool all_made_here() const { return bounces_from_elsewhere == 0; }
  std::string summary;
  std::vector<std::string> evidence;
  double score = 0;  // for ordering: larger is worse
};

std::vector<Finding> find_abuse(const Forensics& f);

// What an actor's densest window is by the thresholds (see thresholds.h): no burst, a burst,
// or what would be one but mailed a list its sender mails run after run (a nightly digest).
enum class Burst { None, Burst, ListMailedAgain };
Burst burst_of(const ActorStats& a, const Thresholds& t);
inline bool is_burst(const ActorStats& a, const Thresholds& t) { return burst_of(a, t) == Burst::Burst; }

// A script, local user or account spared a finding because its burst mailed a list mailed
// again run after run. Said in the report all the same: a spammer's cron job mailing one harvested list
// every night looks the same.
struct ListMailing {
  ActorKind actor_kind;
  std::string actor;
  uint64_t messages = 0, recipients = 0;
  uint64_t peak_recipients = 0;  // in its busiest window
  uint64_t list = 0;             // different recipients mailed run after run, estimated from its sample
  uint64_t others = 0;           // different recipients mailed in fewer runs (order mail beside a digest)
  uint32_t runs = 0;             // the runs a sampled recipient was typically (the median) named in
  CivilSeconds first = 0, last = 0;
  std::string summary;
};
// Scripts, users and accounts whose burst is such a list (none that is a finding: an account
// found for its IPs or logins).
std::vector<ListMailing> lists_mailed_again(const Forensics& f, const std::vector<Finding>& findings);

}  // namespace sw::stats
