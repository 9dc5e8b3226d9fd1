// Reads one queued message from disk: its -H (parsed) and the body size from -D.
// Exim replaces -H by rename and deletes messages at any moment, so a file that vanishes or is
// replaced while we read it is reported as `vanished` (the message moved on), not as corrupt.
#pragma once
#include <cstdint>
#include <string>

#include "spool/spool_header.h"
#include "spool/spool_location.h"

namespace sw::spool {

enum class ReadOutcome { ok, vanished, unreadable };

struct ReadResult {
  ReadOutcome outcome = ReadOutcome::ok;
  std::string reason;      // for unreadable: what was wrong, fit for a report
  int64_t body_size = -1;  // -D size minus its "<id>-D\n" first line; -1 when not asked for
};

// A message's body size from the size of its -D file, whose first line is "<id>-D\n".
inline int64_t body_size_from_data_file(const MessageLocation& location, int64_t data_file_size) {
  int64_t first_line = int64_t(location.id.size()) + 3;
  return data_file_size >= first_line ? data_file_size - first_line : 0;
}

// `buffer` is reused between calls to avoid an allocation per message. Without `body_size`
// the -D file is not stat()ed when the listing already saw it (location.data_seen).
ReadResult read_message(const MessageLocation& location, SpoolHeader& header, std::string& buffer,
                        bool body_size = true);

// The same with location.input_dir already open as dir_fd: relative lookups save a path walk
// per file, which dominates the cost of a warm scan.
ReadResult read_message_at(int dir_fd, const MessageLocation& location, SpoolHeader& header, std::string& buffer,
                           bool body_size = true);

}  // namespace sw::spool
