#include "spool/spool_scanner.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "spool/spool_reader.h"

namespace sw::spool {
namespace {

constexpr size_t kChunk = 128;             // messages claimed per step: amortises the atomic
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
ScanCounts scan_worker(size_t total, const LocationOf& location_of, std::atomic<size_t>& next, ScanSink& sink) {
  ScanCounts counts;
  SpoolHeader header;
  std::string buffer;
  MessageLocation scratch;
  DirectoryCache directories;
  for (;;) {
    size_t begin = next.fetch_add(kChunk);
    if (begin >= total) break;
    size_t end = std::min(begin + kChunk, total);
    for (size_t i = begin; i < end; ++i) {
      const MessageLocation& location = location_of(i, scratch);
      int dir_fd = directories.get(location.input_dir);
      ReadResult result = dir_fd >= 0 ? read_message_at(dir_fd, location, header, buffer)
                                      : read_message(location, header, buffer);
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
    }
  }
  return counts;
}

template <typename LocationOf>
ScanCounts scan_all(size_t total, const LocationOf& location_of, const std::vector<ScanSink*>& sinks) {
  std::atomic<size_t> next{0};
  std::vector<ScanCounts> counts(sinks.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < sinks.size(); ++i)
    threads.emplace_back([&, i] { counts[i] = scan_worker(total, location_of, next, *sinks[i]); });
  if (!sinks.empty()) counts[0] = scan_worker(total, location_of, next, *sinks[0]);
  for (std::thread& thread : threads) thread.join();
  ScanCounts sum;
  for (const ScanCounts& c : counts) {
    sum.messages += c.messages;
    sum.unreadable += c.unreadable;
    sum.vanished += c.vanished;
  }
  return sum;
}

}  // namespace

size_t scan_threads_for(size_t messages, size_t max_threads) {
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  if (max_threads > 0) cores = std::min(cores, max_threads);
  return std::clamp<size_t>(messages / kMessagesPerThread, 1, cores);
}

ScanCounts scan_messages(const std::vector<MessageLocation>& messages, const std::vector<ScanSink*>& sinks) {
  auto location_of = [&](size_t i, MessageLocation&) -> const MessageLocation& { return messages[i]; };
  return scan_all(messages.size(), location_of, sinks);
}

ScanCounts scan_messages(const SpoolListing& listing, const std::vector<ScanSink*>& sinks) {
  auto location_of = [&](size_t i, MessageLocation& scratch) -> const MessageLocation& {
    listing.location(i, scratch);
    return scratch;
  };
  return scan_all(listing.size(), location_of, sinks);
}

}  // namespace sw::spool
