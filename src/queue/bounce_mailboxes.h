// Whether queued bounces went (or wait to go) into a mailbox on this host: read from their
// msglogs, which the -H file does not hold. As in `logs`: bounces Exim made here to one of our
// users, frozen on its full mailbox, are that user's real bounces, not backscatter.
#pragma once
#include <string>
#include <string_view>

#include "queue/summary.h"

namespace sw::queue {

// Whether a msglog's text shows a delivery outcome ("**", "==", "=>") for `target` on a
// transport of this host (not errors_copy's copy to a postmaster here). Pure.
bool msglog_shows_mailbox_here(std::string_view msglog, std::string_view target);

// For each address at least `min_bounces` bounces converge on, some of them made here, reads
// the msglogs of a few of those (ActorCount::made_here) until one shows a mailbox here, and
// marks it (ActorCount::mailbox_here).
// A msglog that is missing or unreadable (message_logs = false) tells nothing.
void note_bounces_into_mailboxes_here(SummaryAccumulator& s, const std::string& spool_dir, uint64_t min_bounces);

}  // namespace sw::queue
