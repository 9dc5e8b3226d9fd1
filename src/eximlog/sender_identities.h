// cPanel's "<id> Sender identification U=USER ..." lines, joined to the arrivals they name.
// A script that talks SMTP to 127.0.0.1 itself (PHPMailer) leaves no cwd= line and no U= on
// its arrival; cPanel, which found the user whose process held the connection, logs this line.
// It does so when it routes the message, just after the arrival (its own log reader updates
// the arrival's row with it); an ACL of the site's own may log it before. Both orders join.
// cPanel also names the connection when it opens ("SMTP connection identification H=localhost
// A=IP P=PORT U=USER ... B=identify_local_connection"): an arrival from that IP and port (its
// H=[IP]:PORT, +incoming_port, which cPanel sets) is the user's at once. That names mail that
// is never routed (frozen at its arrival: a hold) or routed late (queue_only under load, a
// queue run an hour later), past the routing line's wait.
// Shared by the offline forensics engine and the live detector so both credit such mail to the
// same user. Pure, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
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
    bool named = false;                // an arrival its connection named: its routing line counts nothing
  };
  // A connection cPanel named, which its arrivals take their user from.
  struct Connection {
    std::string ip, port, user;
    CivilSeconds time = 0;
  };
  static constexpr size_t kMax = 512;  // waiting at once, each way: a busy server's sessions in DATA
  // Local connections named in the wait (webmail's are among them): a few a second at most.
  static constexpr size_t kMaxConnections = 4096;
  // The other line follows within seconds; five minutes leave room for a slow content scan or a
  // queue run, and are what a cwd= line waits (slices warm that long).
  static constexpr CivilSeconds kWait = 300;
  static constexpr size_t kMaxKeptLine = 16 * 1024;

  // Whether an identification's user names someone: a user of this host, or Mailman (this
  // host's mail, though no user's); not Exim's own users nor "-system-".
  static bool names_someone(std::string_view user) { return names_a_user(user) || is_list_manager(user); }

  // What an identification line did.
  enum class Noted {
    kNobody,      // names no one (Exim's own users, "-system-"), or its arrival's connection named it
    kWaits,       // for its arrival, which take() gives it to
    kClaims,      // its message arrived already (kept by take()) and is the user's: the caller counts it now
    kConnection,  // a connection's: its arrivals within the wait are the user's (take())
  };
  // Notes an identification line. Mailman is noted: its mail is this host's, though no user's
  // (names_a_user tells them apart). On kClaims, `arrival` gets what take() kept of it.
  Noted note(const LogLine& l, Entry* arrival = nullptr);
  // The user (or Mailman) identified for this arrival when may_be_identified(), else "": by a
  // line of its id first, else by its connection. Used once. An arrival that may be identified
  // and found no user is kept for a later line (with its line when `keep_line` is given: the
  // live detector counts it again). `kept`: whether this arrival now waits (its entry is
  // arrivals().back()).
  std::string take(const LogLine& l, std::string_view keep_line = {}, bool* kept = nullptr);
  Entry& newest_arrival() { return arrived_.back(); }
  // The user a named connection gives this arrival ("" for none), as take() would; changes nothing.
  std::string connection_user(const LogLine& arrival) const {
    return may_be_identified(arrival) ? user_of_connection(arrival) : std::string();
  }

  bool empty() const { return waiting_.empty() && arrived_.empty() && connections_.empty(); }
  const std::deque<Entry>& entries() const { return waiting_; }
  const std::deque<Entry>& arrivals() const { return arrived_; }
  const std::deque<Connection>& connections() const { return connections_; }
  // Changes each time connections() does: what a caller derived from them is still good while it holds.
  uint64_t connections_version() const { return connections_version_; }
  // Restore a saved entry (oldest first); false past kMax.
  bool restore(Entry e) { return restore_to(waiting_, std::move(e)); }
  bool restore_arrival(Entry e) { return restore_to(arrived_, std::move(e)); }
  bool restore_connection(Connection c) {
    ++connections_version_;
    return restore_to(connections_, std::move(c), kMaxConnections);
  }

 private:
  // Entries whose other line never came (a message refused after the ACL, mail cPanel did not
  // name) go.
  template <class T>
  static void make_room(std::deque<T>& q, CivilSeconds now, size_t most = kMax) {
    while (!q.empty() && (q.size() >= most || q.front().time < now - kWait)) q.pop_front();
  }
  template <class T>
  static bool restore_to(std::deque<T>& q, T e, size_t most = kMax) {
    if (q.size() >= most) return false;
    q.push_back(std::move(e));
    return true;
  }
  void note_connection(const LogLine& l);
  std::string user_of_connection(const LogLine& arrival) const;

  std::deque<Entry> waiting_;           // identifications before their arrivals, oldest first
  std::deque<Entry> arrived_;           // arrivals that may yet be identified, oldest first
  std::deque<Connection> connections_;  // connections named lately, oldest first
  uint64_t connections_version_ = 0;
};

}  // namespace sw::eximlog
