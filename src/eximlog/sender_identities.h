// cPanel's "<id> Sender identification U=USER ..." lines, kept until the arrivals they name.
// A script that talks SMTP to 127.0.0.1 itself (PHPMailer) leaves no cwd= line and no U= on
// its arrival; cPanel, which found the user whose process held the connection, logs this line
// just before. Shared by the offline forensics engine and the live detector so both credit
// such mail to the same user. Pure, no I/O.
#pragma once
#include <cstddef>
#include <deque>
#include <string>

#include "base/civil_time.h"
#include "eximlog/log_line.h"
#include "eximlog/message_id.h"

namespace sw::eximlog {

// Whether an arrival names who sent it: an account (A=), or a local submission (P=local, U=).
// For mail over SMTP without a login only cPanel's identification can.
inline bool arrival_names_its_sender(const LogLine& l) {
  return !l.auth_id.empty() || !l.auth.empty() || !l.ident.empty() || is_local_submission(l);
}

class SenderIdentities {
 public:
  struct Entry {
    MessageKey id;
    CivilSeconds time = 0;
    std::string user;
  };
  static constexpr size_t kMax = 512;  // waiting at once: a busy server's sessions in DATA
  // The arrival follows within seconds (cPanel logs the line in the DATA ACL); five minutes
  // leave room for a slow content scan, and are what a cwd= line waits (slices warm that long).
  static constexpr CivilSeconds kWait = 300;

  // Notes an identification line; false when it names nobody (Exim's own users, "-system-").
  // Mailman is noted: its mail is this host's, though no user's (names_a_user tells them apart).
  bool note(const LogLine& l);
  // The user (or Mailman) identified for this arrival when it came over SMTP from this host (from_this_host:
  // the loopback, or the address it came in on) with a sender (not a bounce) and no login of
  // its own on the line, else "". Mail from elsewhere that cPanel ties to a user (an IP whose
  // mailbox logged in lately) is no script of theirs. Used once.
  // (Without +incoming_interface a script connecting to this server's public address is
  // missed: the log does not say which addresses are this host's.)
  std::string take(const LogLine& l);

  bool empty() const { return waiting_.empty(); }
  const std::deque<Entry>& entries() const { return waiting_; }
  // Restores a saved entry (oldest first); false past kMax.
  bool restore(Entry e);

 private:
  std::deque<Entry> waiting_;  // oldest first
};

}  // namespace sw::eximlog
