// Walks every queued message once, in parallel, handing each parsed message to a sink.
// Sinks are per thread so they need no locking; the caller merges them afterwards. Nothing
// is kept per message here, so memory stays bounded by what the sinks decide to keep.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "spool/spool_header.h"
#include "spool/spool_location.h"
#include "spool/message_reader.h"

namespace sw::spool {

class ScanSink {
 public:
  virtual ~ScanSink() = default;
  virtual void on_message(const MessageLocation& location, const SpoolHeader& header, int64_t body_size) = 0;
  virtual void on_unreadable(const MessageLocation& location, std::string_view reason) = 0;
};

struct ScanCounts {
  size_t messages = 0;          // parsed
  size_t unreadable = 0;        // corrupt or unreadable, reported to the sink
  size_t vanished = 0;          // gone or replaced while we read them: delivered or rewritten by Exim
  size_t io_uring_threads = 0;  // threads that read through io_uring (the others used plain calls)
  std::string io_uring_error;   // why a thread could not use io_uring, if one could not
};

// Threads to use for `messages` files: 1 for small queues (thread start-up would dominate).
size_t scan_threads_for(size_t messages, size_t max_threads = 0);

// Scans the messages with sinks.size() threads (sink i is used only by thread i). Each thread
// reads through its own MessageReader (io_uring batches where possible, see message_reader.h).
ScanCounts scan_messages(const std::vector<MessageLocation>& messages, const std::vector<ScanSink*>& sinks,
                         const ReaderOptions& options = {});
ScanCounts scan_messages(const SpoolListing& listing, const std::vector<ScanSink*>& sinks,
                         const ReaderOptions& options = {});

}  // namespace sw::spool
