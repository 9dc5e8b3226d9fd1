#include "eximlog/sender_identities.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace sw::eximlog {

bool SenderIdentities::note(const LogLine& l) {
  if (l.message_id.empty() || !(names_a_user(l.ident) || is_list_manager(l.ident))) return false;
  // Identifications whose arrivals never came (the message was refused after the ACL) go.
  while (!waiting_.empty() && (waiting_.size() >= kMax || waiting_.front().time < l.time - kWait)) waiting_.pop_front();
  waiting_.push_back({message_key(l.message_id), l.time, std::string(l.ident)});
  return true;
}

std::string SenderIdentities::take(const LogLine& l) {
  if (waiting_.empty() || l.message_id.empty()) return {};
  MessageKey id = message_key(l.message_id);
  auto found = std::find_if(waiting_.rbegin(), waiting_.rend(), [&](const Entry& e) { return e.id == id; });
  if (found == waiting_.rend()) return {};
  std::string user = std::move(found->user);
  bool fresh = found->time >= l.time - kWait;
  waiting_.erase(std::next(found).base());
  bool theirs = fresh && !arrival_names_its_sender(l) && !l.address.empty() && from_this_host(l);
  return theirs ? user : std::string();
}

bool SenderIdentities::restore(Entry e) {
  if (waiting_.size() >= kMax) return false;
  waiting_.push_back(std::move(e));
  return true;
}

}  // namespace sw::eximlog
