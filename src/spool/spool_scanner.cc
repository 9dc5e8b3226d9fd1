#include "spool/spool_scanner.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "spool/spool_reader.h"

namespace sw::spool {
namespace {

constexpr size_t kChunk = 128;             // messages claimed per step: amortises the atomic
constexpr size_t kMessagesPerThread = 2000;

ScanCounts scan_worker(const std::vector<MessageLocation>& messages, std::atomic<size_t>& next, ScanSink& sink) {
  ScanCounts counts;
  SpoolHeader header;
  std::string buffer;
  for (;;) {
    size_t begin = next.fetch_add(kChunk);
    if (begin >= messages.size()) break;
    size_t end = std::min(begin + kChunk, messages.size());
    for (size_t i = begin; i < end; ++i) {
      ReadResult result = read_message(messages[i], header, buffer);
      switch (result.outcome) {
        case ReadOutcome::ok:
          ++counts.messages;
          sink.on_message(messages[i], header, result.body_size);
          break;
        case ReadOutcome::vanished: ++counts.vanished; break;
        case ReadOutcome::unreadable:
          ++counts.unreadable;
          sink.on_unreadable(messages[i], result.reason);
          break;
      }
    }
  }
  return counts;
}

}  // namespace

size_t scan_threads_for(size_t messages, size_t max_threads) {
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  if (max_threads > 0) cores = std::min(cores, max_threads);
  return std::clamp<size_t>(messages / kMessagesPerThread, 1, cores);
}

ScanCounts scan_messages(const std::vector<MessageLocation>& messages, const std::vector<ScanSink*>& sinks) {
  std::atomic<size_t> next{0};
  std::vector<ScanCounts> counts(sinks.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < sinks.size(); ++i)
    threads.emplace_back([&, i] { counts[i] = scan_worker(messages, next, *sinks[i]); });
  if (!sinks.empty()) counts[0] = scan_worker(messages, next, *sinks[0]);
  for (std::thread& thread : threads) thread.join();
  ScanCounts total;
  for (const ScanCounts& c : counts) {
    total.messages += c.messages;
    total.unreadable += c.unreadable;
    total.vanished += c.vanished;
  }
  return total;
}

}  // namespace sw::spool
