#include "spool/spool_scanner.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "spool/message_reader.h"

namespace sw::spool {
namespace {

constexpr size_t kChunk = 128;  // messages claimed per step: amortises the atomic
constexpr size_t kMessagesPerThread = 2000;

// `location_of(i, scratch)` returns the i-th message's location (possibly built in scratch).
// Each thread keeps its input directories open for relative openat()/fstatat().
class DirectoryCache {
 public:
  ~DirectoryCache() {
    for (const auto& [path, fd] : fds_)
      if (fd >= 0) ::close(fd);
  }
  int get(const std::string& path) {
    auto it = fds_.find(path);
    if (it == fds_.end()) it = fds_.emplace(path, ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)).first;
    return it->second;
  }

 private:
  std::unordered_map<std::string, int> fds_;
};

template <typename LocationOf>
ScanCounts scan_worker(size_t total, const LocationOf& location_of, std::atomic<size_t>& next, ScanSink& sink,
                       const ReaderOptions& options) {
  ScanCounts counts;
  MessageReader reader(options);  // created on the thread that uses it (io_uring wants that)
  counts.io_uring_threads = reader.uses_io_uring();
  counts.io_uring_error = reader.io_uring_error();
  const size_t batch_size = reader.batch_size();
  std::vector<MessageLocation> scratch(batch_size);
  std::vector<const MessageLocation*> locations(batch_size);
  std::vector<ReadRequest> requests(batch_size);
  DirectoryCache directories;
  auto done = [&](size_t index, const ReadResult& result, const SpoolHeader& header) {
    const MessageLocation& location = *locations[index];
    switch (result.outcome) {
      case ReadOutcome::ok:
        ++counts.messages;
        sink.on_message(location, header, result.body_size);
        break;
      case ReadOutcome::vanished: ++counts.vanished; break;
      case ReadOutcome::unreadable:
        ++counts.unreadable;
        sink.on_unreadable(location, result.reason);
        break;
    }
  };
  for (;;) {
    size_t begin = next.fetch_add(kChunk);
    if (begin >= total) break;
    const size_t end = std::min(begin + kChunk, total);
    for (size_t i = begin; i < end; i += batch_size) {
      const size_t n = std::min(batch_size, end - i);
      for (size_t j = 0; j < n; ++j) {
        locations[j] = &location_of(i + j, scratch[j]);
        requests[j] = {directories.get(locations[j]->input_dir), locations[j]};
      }
      reader.read_batch(std::span<const ReadRequest>(requests.data(), n), done);
    }
  }
  return counts;
}

template <typename LocationOf>
ScanCounts scan_all(size_t total, const LocationOf& location_of, const std::vector<ScanSink*>& sinks,
                    const ReaderOptions& options) {
  std::atomic<size_t> next{0};
  std::vector<ScanCounts> counts(sinks.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < sinks.size(); ++i)
    threads.emplace_back([&, i] { counts[i] = scan_worker(total, location_of, next, *sinks[i], options); });
  if (!sinks.empty()) counts[0] = scan_worker(total, location_of, next, *sinks[0], options);
  for (std::thread& thread : threads) thread.join();
  ScanCounts sum;
  for (const ScanCounts& c : counts) {
    sum.messages += c.messages;
    sum.unreadable += c.unreadable;
    sum.vanished += c.vanished;
    sum.io_uring_threads += c.io_uring_threads;
    if (sum.io_uring_error.empty()) sum.io_uring_error = c.io_uring_error;
  }
  return sum;
}

}  // namespace

size_t scan_threads_for(size_t messages, size_t max_threads) {
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  if (max_threads > 0) cores = std::min(cores, max_threads);
  return std::clamp<size_t>(messages / kMessagesPerThread, 1, cores);
}

ScanCounts scan_messages(const std::vector<MessageLocation>& messages, const std::vector<ScanSink*>& sinks,
                         const ReaderOptions& options) {
  auto location_of = [&](size_t i, MessageLocation&) -> const MessageLocation& { return messages[i]; };
  return scan_all(messages.size(), location_of, sinks, options);
}

ScanCounts scan_messages(const SpoolListing& listing, const std::vector<ScanSink*>& sinks,
                         const ReaderOptions& options) {
  auto location_of = [&](size_t i, MessageLocation& scratch) -> const MessageLocation& {
    listing.location(i, scratch);
    return scratch;
  };
  return scan_all(listing.size(), location_of, sinks, options);
}

}  // namespace sw::spool
