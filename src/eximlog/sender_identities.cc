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

void SenderIdentities::make_room(std::deque<Entry>& q, CivilSeconds now) {
  // Entries whose other line never came (a message refused after the ACL, mail cPanel did not
  // name) go.
  while (!q.empty() && (q.size() >= kMax || q.front().time < now - kWait)) q.pop_front();
}

bool SenderIdentities::restore_to(std::deque<Entry>& q, Entry e) {
  if (q.size() >= kMax) return false;
  q.push_back(std::move(e));
  return true;
}

SenderIdentities::Noted SenderIdentities::note(const LogLine& l, Entry* arrival) {
  if (l.message_id.empty()) return Noted::kNobody;
  // A line naming nobody is passed over in either order: another may still name the user.
  if (!names_someone(l.ident)) return Noted::kNobody;
  MessageKey id = message_key(l.message_id);
  if (!arrived_.empty()) {
    if (auto found = newest_of(arrived_, id); found != arrived_.rend()) {
      bool fresh = found->time >= l.time - kWait;
      if (arrival) *arrival = std::move(*found);
      arrived_.erase(std::next(found).base());
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
    // Exim cuts its own lines at 8 KB: a longer one is no Exim's, and is not kept whole.
    arrived_.push_back({id, l.time, std::string(keep_line.substr(0, kMaxKeptLine)), l.size, {}});
    if (kept) *kept = true;
  }
  return {};
}

}  // namespace sw::eximlog
