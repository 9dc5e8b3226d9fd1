// The simulated hosting server's population: cPanel users, their domains, mailboxes and PHP
// script directories; the remote world (mail providers, business domains, client and MTA IPs);
// and the fixed identities of the planted culprits. Built once from the seed; the simulation
// only indexes into it, so the number of distinct actors does not grow with the log size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gen_core.h"

namespace sw::bench::gen {

inline constexpr const char* kHostname = "cpanel01.hostsrv.net";

enum class Provider : uint8_t { kGmail, kOutlook, kYahoo, kO365, kWorkspace, kGeneric, kExim };

struct RemoteDomain {
  std::string name;
  Provider provider;
  std::string mx;     // outbound: the MX host we deliver to
  std::string mx_ip;  // and its address
};

// A host that talks SMTP to us. fullhost is everything of H= before the final "[ip]":
// "name ", "name (helo) ", "(helo) " or "" (exim-formats.md 1.5, H= forms).
struct Client {
  std::string fullhost;
  std::string ip;  // v4 dotted or v6 text, without brackets
};

enum class BoxKind : uint8_t { kMailbox, kForwardRemote, kForwardTwoLevel, kPipe, kFilterNull };

struct Mailbox {
  std::string local;
  uint32_t domain;
  BoxKind kind;
  std::string forward;  // final remote address for forwards
  std::string middle;   // intermediate alias for two-level forwards
  uint32_t forward_rd = 0;
};

struct Domain {
  std::string name;
  uint32_t owner;
  uint32_t first_box;
  uint32_t n_boxes;
};

struct User {
  std::string name;
  uint32_t uid;
  uint32_t main_domain;
};

struct Script {
  uint32_t user;
  std::string cwd;
  std::string args;    // "3 args: /usr/sbin/sendmail -t -i"
  std::string sender;  // envelope sender that results
};

struct World {
  std::vector<User> users;
  std::vector<Domain> domains;
  // Popularity order: skewed picks index these, so busy background actors are spread at
  // random over the population instead of piling onto the first (planted) users.
  std::vector<uint32_t> domain_rank, user_rank;
  std::vector<Mailbox> boxes;
  std::vector<uint32_t> auth_boxes;  // mailboxes (kMailbox) that log in over SMTP AUTH
  std::vector<Script> scripts;
  std::vector<RemoteDomain> remote;  // [0, n_big) are the big free-mail providers
  uint32_t n_big = 0;
  std::vector<Client> inbound_mtas;          // legitimate sending MTAs, per provider mix
  std::vector<uint16_t> inbound_mta_domain;  // remote domain each MTA sends for
  std::vector<Client> auth_clients;          // MUAs of our own users
  std::vector<Client> bot_clients;           // spam bots, scanners, brute forcers

  // Planted identities (see gen_mainlog.cc header).
  uint32_t u_script = 0, u_compromised = 0, u_randsend = 0, u_backscatter = 0, u_shop = 0;
  uint32_t script_spam = 0;  // index into scripts
  uint32_t script_shop = 0;
  uint32_t box_compromised = 0;
  uint32_t box_backscatter = 0;
  uint32_t box_shop_archive = 0;
  Client dict_client;                       // the dictionary attacker
  Client webmail_client;                    // Roundcube/Horde submitting over localhost
  Client randsend_client;                   // the PHPMailer-over-localhost spammer
  std::vector<Client> compromised_clients;  // IPs that use the stolen password
  std::vector<Client> brute_clients;        // IPs that guessed it

  std::string address(uint32_t box) const {
    const Mailbox& b = boxes[box];
    return b.local + "@" + domains[b.domain].name;
  }
};

World build_world(uint64_t seed);

// A random remote person's address at remote domain rd (deterministic from rng).
void append_remote_person(std::string& dst, Rng& rng, const World& w, uint32_t rd);
// Picks a remote domain the way outbound mail from a hosting server spreads.
uint32_t pick_remote_domain(Rng& rng, const World& w);
// A random-looking lower-case alnum token, as spam tools put in local parts.
void append_token(std::string& dst, Rng& rng, int len);

}  // namespace sw::bench::gen
