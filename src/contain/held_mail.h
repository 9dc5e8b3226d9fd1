// Which queued messages each hold covers: the mail `release` thaws or removes and the frozen
// mail `holds` counts per incident. A hold covers a message when the message names its actor:
// the login that submitted it (a local user, or the user who runs a held script), the SMTP-AUTH
// account, the client IP, the envelope sender. Keys are compared exactly (they are held keys,
// not patterns), so one pass over the spool answers for thousands of holds.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "queue/message_facts.h"
#include "spool/spool_location.h"
#include "store/hold_store.h"

namespace sw::contain {

// Pure: the holds, indexed by the message fact that names each.
class HoldIndex {
 public:
  explicit HoldIndex(const std::vector<store::HoldRecord>& holds);
  // Appends to *out the indices (into the holds given) of those covering the message.
  void covering(const queue::MessageFacts& facts, std::vector<uint32_t>* out) const;

 private:
  using Map = std::unordered_map<std::string, std::vector<uint32_t>>;
  static void add(const Map& map, std::string_view key, std::vector<uint32_t>* out);
  Map by_login_, by_auth_, by_ip_, by_sender_;
};

struct CoveredMessage {
  spool::MessageLocation location;
  bool frozen = false;
  std::vector<uint32_t> holds;  // indices into the holds scanned for
};

struct CoverageScan {
  std::vector<CoveredMessage> messages;  // covered by at least one hold, sorted by id
  size_t unreadable = 0;                 // -H files that could not be read: not covered, never touched
  std::string error;                     // an input directory could not be listed: the scan is partial
};

// One pass over the spool (frozen messages only, if asked).
CoverageScan scan_coverage(const std::string& spool_dir, const std::vector<store::HoldRecord>& holds, bool frozen_only,
                           int64_t now);

}  // namespace sw::contain
