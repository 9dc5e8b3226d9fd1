#include "contain/held_mail.h"

#include <algorithm>

#include "base/text.h"
#include "spool/spool_scanner.h"

namespace sw::contain {

using detect::ActorType;

HoldIndex::HoldIndex(const std::vector<store::HoldRecord>& holds) {
  for (uint32_t i = 0; i < holds.size(); ++i) {
    const store::HoldRecord& h = holds[i];
    switch (h.actor.type) {
      case ActorType::Script:
        // Exim cannot tell a script's mail from its user's: the user's is what the hold froze.
        if (!h.related_user.empty()) by_login_[h.related_user].push_back(i);
        break;
      case ActorType::LocalUser: by_login_[h.actor.key].push_back(i); break;
      case ActorType::AuthAccount: by_auth_[to_lower(h.actor.key)].push_back(i); break;
      case ActorType::ClientIp: by_ip_[h.actor.key].push_back(i); break;
      case ActorType::Sender: by_sender_[to_lower(h.actor.key)].push_back(i); break;
    }
  }
}

void HoldIndex::add(const Map& map, std::string_view key, std::vector<uint32_t>* out) {
  if (key.empty()) return;
  auto it = map.find(std::string(key));
  if (it != map.end()) out->insert(out->end(), it->second.begin(), it->second.end());
}

void HoldIndex::covering(const queue::MessageFacts& facts, std::vector<uint32_t>* out) const {
  add(by_login_, facts.local_user, out);  // sendmail's caller, or the user cPanel found behind SMTP from here
  add(by_auth_, to_lower(facts.auth_account), out);
  add(by_ip_, facts.client_ip, out);
  add(by_sender_, facts.sender, out);  // lower-cased by extract_facts
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

namespace {

class CoverageSink : public spool::ScanSink {
 public:
  CoverageSink(const HoldIndex& index, bool frozen_only, int64_t now)
      : index_(index), frozen_only_(frozen_only), now_(now) {}
  void on_message(const spool::MessageLocation& location, const spool::SpoolHeader& header, int64_t) override {
    queue::extract_facts(header, now_, facts_);
    if (frozen_only_ && !facts_.frozen) return;
    CoveredMessage m{location, facts_.frozen, {}};
    index_.covering(facts_, &m.holds);
    if (!m.holds.empty()) messages.push_back(std::move(m));
  }
  void on_unreadable(const spool::MessageLocation&, std::string_view) override { ++unreadable; }
  std::vector<CoveredMessage> messages;
  size_t unreadable = 0;

 private:
  const HoldIndex& index_;
  bool frozen_only_;
  int64_t now_;
  queue::MessageFacts facts_;
};

}  // namespace

CoverageScan scan_coverage(const std::string& spool_dir, const std::vector<store::HoldRecord>& holds, bool frozen_only,
                           int64_t now) {
  CoverageScan result;
  if (holds.empty()) return result;
  HoldIndex index(holds);
  spool::SpoolListing listing = spool::list_spool(spool_dir);
  result.error = listing.error();
  std::vector<CoverageSink> sinks(spool::scan_threads_for(listing.size()), CoverageSink(index, frozen_only, now));
  std::vector<spool::ScanSink*> pointers;
  for (CoverageSink& sink : sinks) pointers.push_back(&sink);
  spool::scan_messages(listing, pointers);
  for (CoverageSink& sink : sinks) {
    std::move(sink.messages.begin(), sink.messages.end(), std::back_inserter(result.messages));
    result.unreadable += sink.unreadable;
  }
  std::sort(result.messages.begin(), result.messages.end(),
            [](const CoveredMessage& a, const CoveredMessage& b) { return a.location.id < b.location.id; });
  return result;
}

}  // namespace sw::contain
