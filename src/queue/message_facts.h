// The actor keys of one queued message (who sent it, from where, to which domains), derived
// from a parsed -H. Pure: the caller supplies "now". Shared by the summary and the selection
// so both agree on what "sender domain" or "script" means.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spool/spool_header.h"

namespace sw::queue {

struct MessageFacts {
  std::string auth_account;  // lower-cased SMTP AUTH id, empty if none
  std::string login;         // owner line: caller login
  // Who on this host sent it: a local submission's login (not Exim's own), or the user cPanel
  // found behind an unauthenticated SMTP connection from this host (a script talking to
  // 127.0.0.1), from its X-Get-Message-Sender-Via header. Empty when neither.
  std::string local_user;
  int64_t uid = 0;
  std::string sender;  // lower-cased envelope sender, "<>" for a bounce
  std::string sender_domain;
  std::string sender_local_part;
  std::string client_ip;  // empty for local submissions
  std::string helo;
  std::string subject;           // raw (not RFC 2047 decoded), capped, controls masked
  std::string script;            // X-PHP-Script path (without " for <ip>") or X-PHP-Originating-Script
  std::string failed_recipient;  // bounces: first X-Failed-Recipients address
  std::string first_recipient;   // lower-cased first pending recipient
  std::vector<std::pair<std::string, size_t>> recipient_domains;  // pending recipients per domain
  size_t pending_recipients = 0;
  int64_t age_seconds = 0;
  bool frozen = false;
  bool bounce = false;
  bool exim_generated = false;  // -localerror
  bool local_submission = false;
  bool moved_frozen = false;  // in Finput/ (move_frozen_messages): Exim's -M options do not see it
};

// Who to blame for a message: the auth account, else its local user, else the sender.
// Returns {kind, key}, kind one of "auth_account", "local_user", "sender"; key views into facts.
std::pair<std::string_view, std::string_view> blamed_actor(const MessageFacts& facts);

void extract_facts(const spool::SpoolHeader& header, int64_t now, MessageFacts& out);

// The user in cPanel's "X-Get-Message-Sender-Via: HOST: acl_c_authenticated_local_user: USER/..."
// (also "authenticated_local_user:") when HOST is `this_host`; "" for its other forms
// (authenticated_id: an account) and for another server's header (mail a content filter
// handed back over 127.0.0.1 keeps the headers of the server it came from).
std::string_view cpanel_local_user(std::string_view sender_via, std::string_view this_host);

// The name cPanel's header gives this server: on a cPanel server (/usr/local/cpanel) its name
// as Exim's primary_hostname defaults to it (gethostname), lower-cased; elsewhere "": without
// cPanel no such header is this server's (a content filter on 127.0.0.1 hands back mail from
// outside whose sender may have written one naming this host).
const std::string& cpanel_host_name();
// For tests: what cpanel_host_name() returns from now on.
void set_cpanel_host_name(std::string name);

std::string domain_of(std::string_view address);  // lower-cased, "" if no '@'

}  // namespace sw::queue
