// The pipeline hands batches to the consumer in input order whatever the workers' timing,
// keeps the reader within its in-flight bound, and rethrows a worker's error; a side consumer
// sees the same batches in the same order, after the first consumer, and its error is rethrown.
#include "logio/ordered_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace sw::logio {
namespace {

struct Batch {
  std::string bytes;
  uint64_t position = 0;
  void clear() { bytes.clear(); }
};

std::string write_lines(const char* name, size_t n, std::string* content) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream out(path, std::ios::binary);
  for (size_t i = 0; i < n; ++i) {
    std::string line = "2026-11-01 10:00:00 line " + std::to_string(i) + "\n";
    *content += line;
    out << line;
  }
  return path;
}

std::vector<std::unique_ptr<ByteSource>> one_source(const std::string& path) {
  std::vector<std::unique_ptr<ByteSource>> sources;
  sources.push_back(open_source(path, 0, 4096));  // small blocks: hundreds of hand-offs
  return sources;
}

// Later blocks often finish first: block numbers decide how long a worker sleeps.
void uneven_parse(const Block& b, Batch& out) {
  out.bytes.assign(b.bytes);
  out.position = b.position;
  std::this_thread::sleep_for(std::chrono::microseconds((b.position / 4096) % 3 == 0 ? 300 : 0));
}

TEST(OrderedPipeline, ConsumesEveryBlockInInputOrder) {
  std::string content;
  std::string path = write_lines("pipeline-order.log", 20000, &content);
  for (int workers : {1, 3}) {
    auto sources = one_source(path);
    OrderedPipeline<Batch> pipeline(workers, uneven_parse);
    std::string seen;
    uint64_t last_position = 0;
    size_t batches = 0;
    pipeline.run(sources, [&](Batch& b) {
      EXPECT_GT(b.position, last_position);
      last_position = b.position;
      seen += b.bytes;
      ++batches;
    });
    EXPECT_GT(batches, 100u);
    EXPECT_EQ(seen, content) << workers << " workers";
  }
}

// Deferred blocks are read by the workers, each just before it parses it: the consumer still
// sees every byte in input order.
TEST(OrderedPipeline, WorkersReadDeferredBlocks) {
  std::string content;
  std::string path = write_lines("pipeline-deferred.log", 20000, &content);
  for (int workers : {1, 3}) {
    std::vector<std::unique_ptr<ByteSource>> sources;
    sources.push_back(open_source(path, 0, 4096, ReadMode::Deferred));
    OrderedPipeline<Batch> pipeline(workers, uneven_parse);
    std::string seen;
    size_t batches = 0;
    pipeline.run(sources, [&](Batch& b) {
      seen += b.bytes;
      ++batches;
    });
    EXPECT_GT(batches, 100u);
    EXPECT_EQ(seen, content) << workers << " workers";
  }
}

TEST(OrderedPipeline, WorkerErrorIsRethrownAfterTheBlocksBeforeIt) {
  std::string content;
  std::string path = write_lines("pipeline-error.log", 20000, &content);
  auto sources = one_source(path);
  OrderedPipeline<Batch> pipeline(2, [](const Block& b, Batch& out) {
    if (b.position > 40000) throw std::runtime_error("bad block");
    uneven_parse(b, out);
  });
  uint64_t last_position = 0;
  EXPECT_THROW(pipeline.run(sources,
                            [&](Batch& b) {
                              EXPECT_GT(b.position, last_position);
                              last_position = b.position;
                            }),
               std::runtime_error);
  EXPECT_LE(last_position, 40000u);
}

TEST(OrderedPipeline, TheSideConsumerSeesEveryBatchInOrderAfterTheFirst) {
  std::string content;
  std::string path = write_lines("pipeline-side.log", 20000, &content);
  auto sources = one_source(path);
  OrderedPipeline<Batch> pipeline(2, uneven_parse);
  std::string first, side;
  std::atomic<uint64_t> first_done{0};
  uint64_t side_last = 0;
  bool side_ahead = false;
  pipeline.run(
      sources,
      [&](Batch& b) {
        first += b.bytes;
        first_done = b.position;
        if (b.position > 40000 && b.position < 45000) pipeline.wait_for_side();  // the side catches up
      },
      [&](Batch& b) {
        side_ahead |= b.position > first_done.load();
        EXPECT_GT(b.position, side_last);
        side_last = b.position;
        side += b.bytes;
        std::this_thread::sleep_for(std::chrono::microseconds(b.position % 5 == 0 ? 200 : 0));
      });
  EXPECT_EQ(first, content);
  EXPECT_EQ(side, content);
  EXPECT_FALSE(side_ahead) << "the side consumer saw a batch before the first consumer was done with it";
}

TEST(OrderedPipeline, SideConsumerErrorIsRethrown) {
  std::string content;
  std::string path = write_lines("pipeline-side-error.log", 20000, &content);
  auto sources = one_source(path);
  OrderedPipeline<Batch> pipeline(2, uneven_parse);
  EXPECT_THROW(pipeline.run(
                   sources, [](Batch&) {},
                   [](Batch& b) {
                     if (b.position > 40000) throw std::runtime_error("side failed");
                   }),
               std::runtime_error);
}

// A consumer that throws ends the run with its own error, every thread joined first (before,
// the threads were left running and their destructors called std::terminate).
TEST(OrderedPipeline, ConsumerErrorIsRethrownAfterEveryThreadStopped) {
  std::string content;
  std::string path = write_lines("pipeline-consumer-error.log", 20000, &content);
  for (bool with_side : {false, true}) {
    auto sources = one_source(path);
    OrderedPipeline<Batch> pipeline(2, uneven_parse);
    size_t consumed = 0;
    std::atomic<size_t> side_consumed{0};
    auto fail_third = [&](Batch&) {
      if (++consumed == 3) throw std::runtime_error("the consumer failed");
    };
    auto count_side = [&](Batch&) { ++side_consumed; };
    try {
      pipeline.run(sources, fail_third, with_side ? OrderedPipeline<Batch>::ConsumeFn(count_side) : nullptr);
      ADD_FAILURE() << "no error";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "the consumer failed");
    }
    EXPECT_EQ(consumed, 3u) << "the consumer was called again after it failed";
    EXPECT_LE(side_consumed.load(), 2u);
  }
}

}  // namespace
}  // namespace sw::logio
