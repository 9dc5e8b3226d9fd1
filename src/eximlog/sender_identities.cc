#include "eximlog/sender_identities.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace sw::eximlog {

namespace {

// The newest entry for `id`, or rend().
std::deque<SenderIdentities::Entry>::reverse_iterator newest_of(std::deque<SenderIdentities::Entry>& q,
                                                                const MessageKey& id) {
  return std::find_if(q.rbegin(), q.rend(), [&](const SenderIdentities::Entry& e) { return e.id == id; });
}

}  // namespace

SenderIdentities::Noted SenderIdentities::note(const LogLine& l, Entry* arrival) {
  if (l.message_id.empty()) {
    if (!l.local_connection || l.host_ip.empty() || l.host_port.empty()) return Noted::kNobody;
    note_connection(l);
    return Noted::kConnection;
  }
  // A line naming nobody is passed over in either order: another may still name the user.
  if (!names_someone(l.ident)) return Noted::kNobody;
  MessageKey id = message_key(l.message_id);
  if (!arrived_.empty()) {
    if (auto found = newest_of(arrived_, id); found != arrived_.rend()) {
      bool named = found->named, fresh = found->time >= l.time - kWait;
      if (arrival) *arrival = std::move(*found);
      arrived_.erase(std::next(found).base());
      if (named) return Noted::kNobody;  // its connection named it: counted then
      if (fresh) return Noted::kClaims;
    }
  }
  make_room(waiting_, l.time);
  waiting_.push_back({id, l.time, std::string(l.ident), 0, {}});
  return Noted::kWaits;
}

std::string SenderIdentities::take(const LogLine& l, std::string_view keep_line, bool* kept) {
  if (kept) *kept = false;
  bool may = may_be_identified(l);
  if (l.message_id.empty() || (waiting_.empty() && !may)) return {};  // most arrivals: no id taken apart
  MessageKey id = message_key(l.message_id);
  if (!waiting_.empty()) {
    if (auto found = newest_of(waiting_, id); found != waiting_.rend()) {
      std::string user = std::move(found->user);
      bool fresh = found->time >= l.time - kWait;
      waiting_.erase(std::next(found).base());
      return fresh && may ? user : std::string();
    }
  }
  if (may) {
    make_room(arrived_, l.time);
    if (std::string user = user_of_connection(l); !user.empty()) {
      // Kept too, so that its routing line, which names it again, is known and counts nothing.
      arrived_.push_back({id, l.time, {}, 0, {}, true});
      return user;
    }
    // Exim cuts its own lines at 8 KB: a longer one is no Exim's, and is not kept whole.
    arrived_.push_back({id, l.time, std::string(keep_line.substr(0, kMaxKeptLine)), l.size, {}});
    if (kept) *kept = true;
  }
  return {};
}

void SenderIdentities::note_connection(const LogLine& l) {
  // A new connection from a port replaces the one before it (the port was freed and used again).
  // One naming nobody is kept too: the port is no longer the old user's.
  ++connections_version_;
  std::erase_if(connections_, [&](const Connection& c) { return c.port == l.host_port && c.ip == l.host_ip; });
  make_room(connections_, l.time, kMaxConnections);
  connections_.push_back({std::string(l.host_ip), std::string(l.host_port), std::string(l.ident), l.time});
}

std::string SenderIdentities::user_of_connection(const LogLine& arrival) const {
  if (connections_.empty() || arrival.host_port.empty()) return {};
  for (auto c = connections_.rbegin(); c != connections_.rend(); ++c) {
    // A connection from the port after the arrival (out of order, or asked later) is another's.
    if (c->port != arrival.host_port || c->ip != arrival.host_ip || c->time > arrival.time) continue;
    // A long session's later messages wait for their routing lines, as unnamed mail does: a
    // slice's warm-up sees the connection line of every arrival it names.
    bool fresh = c->time >= arrival.time - kWait;
    return fresh && names_someone(c->user) ? c->user : std::string();
  }
  return {};
}

}  // namespace sw::eximlog
