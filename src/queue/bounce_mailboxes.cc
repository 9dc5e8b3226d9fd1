#include "queue/bounce_mailboxes.h"

#include "base/fd_io.h"
#include "eximlog/outcome_line.h"
#include "spool/spool_location.h"

namespace sw::queue {
namespace {

// A bounce's msglog holds a few attempts; its first 64 KB are enough to judge.
constexpr size_t kMaxMsglogBytes = 64 << 10;

// The start of a msglog, or "" when it cannot be read. A link or anything but a regular file is
// not followed or waited on (a FIFO planted in the spool).
std::string read_msglog(const std::string& path) {
  std::string text, error;
  if (!read_file_prefix(path, kMaxMsglogBytes, &text, &error, true)) return "";
  return text;
}

}  // namespace

bool msglog_shows_mailbox_here(std::string_view msglog, std::string_view target) {
  while (!msglog.empty()) {
    size_t end = msglog.find('\n');
    std::string_view line = msglog.substr(0, end);
    msglog.remove_prefix(end == std::string_view::npos ? msglog.size() : end + 1);
    // "<date> <time> addr R=... T=... defer ...": the outcome is the target's, not errors_copy's.
    auto parts = eximlog::split_msglog_outcome(line);
    if (parts && eximlog::outcome_is_for(*parts, target) && eximlog::outcome_on_this_host(*parts)) return true;
  }
  return false;
}

void note_bounces_into_mailboxes_here(SummaryAccumulator& s, const std::string& spool_dir, uint64_t min_bounces) {
  for (auto& [address, count] : s.bounces_by_target) {
    if (count.messages < min_bounces || count.from_elsewhere == count.messages) continue;
    for (const std::string& id : count.made_here.sorted()) {
      std::optional<spool::MessageLocation> where = spool::locate_message(spool_dir, id);
      if (where && msglog_shows_mailbox_here(read_msglog(where->msglog_path()), address)) {
        count.mailbox_here = true;
        break;
      }
    }
  }
}

}  // namespace sw::queue
