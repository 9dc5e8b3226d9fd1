// cPanel's "<id> Sender identification U=USER ..." lines, joined to the arrivals they name.
// A script that talks SMTP to 127.0.0.1 itself (PHPMailer) leaves no cwd= line and no U= on
// its arrival; cPanel, which found the user whose process held the connection, logs this line.
// It does so when it routes the message, just after the arrival (its own log reader updates
// the arrival's row with it); an ACL of the site's own may log it before. Both orders join.
// Shared by the offline forensics engine and the live detector so both credit such mail to the
// same user. Pure, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/civil_time.h"
#include "eximlog/log_line.h"
#include "eximlog/message_id.h"

namespace sw::eximlog {

// Whether an arrival names who sent it: an account (A=), or a local submission (P=local, U=).
// For mail over SMTP without a login only cPanel's identification can.
inline bool arrival_names_its_sender(const LogLine& l) {
  return !l.auth_id.empty() || !l.auth.empty() || !l.ident.empty() || is_local_submission(l);
}

// Whether cPanel's identification may name this arrival's user: it came over SMTP from this
// host (the loopback, or the address it came in on) with a sender (not a bounce) and no login
// of its own. Mail from elsewhere that cPanel ties to a user (an IP whose mailbox logged in
// lately) is no script of theirs. (Without +incoming_interface a script connecting to this
// server's public address is missed: the log does not say which addresses are this host's.)
inline bool may_be_identified(const LogLine& l) {
  return !arrival_names_its_sender(l) && !l.address.empty() && from_this_host(l);
}

class SenderIdentities {
 public:
  struct Entry {
    MessageKey id;
    CivilSeconds time = 0;
    std::string user;                  // an identification's user; an arrival's line when the caller keeps it
    uint64_t size = 0;                 // an arrival's size (S=)
    std::vector<uint32_t> recipients;  // what the caller keeps of an arrival's recipients (hashes)
  };
  static constexpr size_t kMax = 512;  // waiting at once, each way: a busy server's sessions in DATA
  // The other line follows within seconds; five minutes leave room for a slow content scan or a
  // queue run, and are what a cwd= line waits (slices warm that long).
  static constexpr CivilSeconds kWait = 300;
  static constexpr size_t kMaxKeptLine = 16 * 1024;

  // Whether an identification's user names someone: a user of this host, or Mailman (this
  // host's mail, though no user's); not Exim's own users nor "-system-".
  static bool names_someone(std::string_view user) { return names_a_user(user) || is_list_manager(user); }

  // What an identification line did.
  enum class Noted {
    kNobody,  // names no one (Exim's own users, "-system-")
    kWaits,   // for its arrival, which take() gives it to
    kClaims,  // its message arrived already (kept by take()) and is the user's: the caller counts it now
  };
  // Notes an identification line. Mailman is noted: its mail is this host's, though no user's
  // (names_a_user tells them apart). On kClaims, `arrival` gets what take() kept of it.
  Noted note(const LogLine& l, Entry* arrival = nullptr);
  // The user (or Mailman) identified for this arrival when may_be_identified(), else "". Used
  // once. An arrival that may be identified and found no identification waiting is kept for a
  // later one (with its line when `keep_line` is given: the live detector counts it again).
  // `kept`: whether this arrival now waits (its entry is arrivals().back()).
  std::string take(const LogLine& l, std::string_view keep_line = {}, bool* kept = nullptr);
  Entry& newest_arrival() { return arrived_.back(); }

  bool empty() const { return waiting_.empty() && arrived_.empty(); }
  const std::deque<Entry>& entries() const { return waiting_; }
  const std::deque<Entry>& arrivals() const { return arrived_; }
  // Restore a saved entry (oldest first); false past kMax.
  bool restore(Entry e) { return restore_to(waiting_, std::move(e)); }
  bool restore_arrival(Entry e) { return restore_to(arrived_, std::move(e)); }

 private:
  static void make_room(std::deque<Entry>& q, CivilSeconds now);
  static bool restore_to(std::deque<Entry>& q, Entry e);

  std::deque<Entry> waiting_;  // identifications before their arrivals, oldest first
  std::deque<Entry> arrived_;  // arrivals that may yet be identified, oldest first
};

}  // namespace sw::eximlog
