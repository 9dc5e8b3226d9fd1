// Reads queued messages in batches with as few system calls as possible.
//
// A scan of a big queue is mostly system calls: per message an openat, a read and a close of
// -H, and a stat of -D for the body size. With io_uring a batch of 64 messages is one
// io_uring_enter(): each message is a hard-linked chain openat (into a registered file slot),
// read, close, plus an independent statx of -D when sizes are wanted. Where io_uring cannot be
// set up (old kernels, seccomp in containers, io_uring_disabled) the same reader does plain
// system calls, one message at a time; both paths give the same results.
//
// Anything unusual on the io_uring path (a -H larger than the buffer, an error other than
// "gone", a parse failure, a missing -D) is redone on the plain path for that message, so
// races with Exim (rename over -H, unlink) are judged by one piece of code (spool_reader.cc).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <span>

#include "spool/spool_header.h"
#include "spool/spool_location.h"
#include "spool/spool_reader.h"

namespace sw::spool {

enum class IoMode {
  automatic,  // io_uring when it can be set up, else plain system calls
  syscalls,   // plain system calls only
  io_uring,   // io_uring only; fails (io_uring_error) when it cannot be set up
};

struct ReaderOptions {
  IoMode io = IoMode::automatic;
  // false: no stat of -D. body_size is then -1, and a message whose listing saw its -D
  // (MessageLocation::data_seen) costs only the -H read.
  bool body_sizes = true;
};

struct ReadRequest {
  int dir_fd = -1;  // location->input_dir, open
  const MessageLocation* location = nullptr;
};

class MessageReader {
 public:
  explicit MessageReader(ReaderOptions options = {});
  ~MessageReader();
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;

  bool uses_io_uring() const;
  // Why io_uring is not used (empty when it is, or when it was not asked for).
  const std::string& io_uring_error() const { return io_uring_error_; }
  // Most requests one read_batch() takes.
  size_t batch_size() const;

  using Done = std::function<void(size_t index, const ReadResult& result, const SpoolHeader& header)>;
  // Reads batch[0..n) (n <= batch_size()) and calls done(i, ...) once per request, in order.
  // `header` is valid only during the call and only when result.outcome is ok.
  void read_batch(std::span<const ReadRequest> batch, const Done& done);

 private:
  struct Ring;
  ReadResult read_plain(const ReadRequest& request);
  ReaderOptions options_;
  std::unique_ptr<Ring> ring_;
  std::string io_uring_error_;
  SpoolHeader header_;
  std::string buffer_;
};

}  // namespace sw::spool
