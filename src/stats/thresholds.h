// When a pattern in the log becomes a finding. Burst rules compare an actor with its own
// history (a shop that mails all week is steady; a hijacked script is not) and every rule has
// an absolute floor so a quiet server does not flag three messages. All are configurable.
#pragma once
#include <cstdint>

namespace sw::stats {

struct Thresholds {
  int64_t window_seconds = 3600;               // the burst window
  uint64_t burst_min_recipients = 100;         // floor: recipients in the densest window
  double burst_min_share = 0.5;                // ...holding at least this share of the actor's mail
  double burst_min_factor = 10.0;              // ...or this many times its average rate
  uint64_t hard_recipients_per_window = 2000;  // flagged whatever the actor's history
  uint64_t many_recipients = 50;               // recipients in one message that look like bulk
  uint64_t account_min_recipients = 100;       // floor for compromised_account
  uint64_t account_min_ips = 10;               // an account used from this many client IPs
  uint64_t account_failed_logins = 5;          // failed logins for the account...
  double account_failed_share = 0.5;           // ...and at least this many per message it sent
  uint64_t dictionary_min_rejects = 50;        // unknown-recipient rejections from one IP...
  uint64_t dictionary_min_distinct = 10;       // ...naming this many different addresses (at most 64)
  uint64_t bruteforce_min_failures = 20;       // authentication failures from one IP
  uint32_t guessing_min_per_ip = 3;            // ...from each of the IPs that tried only one account
  uint64_t guessing_min_ips = 3;               // ...and at least this many of them (a phone: wifi and mobile)
  uint64_t random_min_senders = 30;            // random-looking local parts at one domain
  double random_min_share = 0.5;               // ...as a share of that domain's distinct senders
  uint64_t backscatter_min_bounces = 20;       // bounces converging on one address...
  double backscatter_min_share = 0.02;         // ...that are this share of all bounces received
  uint64_t backscatter_min_stuck = 50;         // ...or this many of them frozen or failed, whatever their share
  uint64_t campaign_min_ips = 10;              // client IPs over a per-IP floor that are one campaign
  double campaign_dominant_share = 0.25;       // an IP with this share of a campaign keeps its own finding
};

}  // namespace sw::stats
