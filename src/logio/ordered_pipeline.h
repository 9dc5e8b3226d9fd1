// Parses blocks on worker threads and hands the results to one consumer in input order.
// Batch needs clear() that keeps capacity: batches are recycled. A deferred block is read by
// the worker that parses it, just before.
// A second consumer (`side`) may see every batch too, in the same order, on its own thread,
// after the first one is done with it and at most kSideLag batches behind it.
// The reader stays at most `max_in_flight` blocks ahead, so memory is bounded whatever the
// input size; the consumer runs on the calling thread. Each role sleeps on its own condition
// variable and is woken only for what it waits for; the reader refills from half-empty, not
// per block. On virtual machines a wake-up is an inter-processor interrupt, so fewer matter.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "logio/byte_source.h"

namespace sw::logio {

template <class Batch>
class OrderedPipeline {
 public:
  using ParseFn = std::function<void(const Block&, Batch&)>;
  using ConsumeFn = std::function<void(Batch&)>;

  OrderedPipeline(int workers, ParseFn parse) : workers_(workers < 1 ? 1 : workers), parse_(std::move(parse)) {}

  // Reads every source in order. A source that throws InputError mid-way ends early with a
  // warning; the blocks read before are still consumed. (Damage and read errors the sources
  // meet themselves end them without throwing: ByteSource::shortfall says so.) A parse error
  // in a worker, or an error of either consumer, is rethrown once every thread has stopped.
  void run(std::vector<std::unique_ptr<ByteSource>>& sources, const ConsumeFn& consume,
           const ConsumeFn& side = nullptr) {
    std::thread reader([&] { read_all(sources); });
    std::thread side_thread;
    if (side) side_thread = std::thread([&] { consume_side(side); });
    std::vector<std::thread> pool;
    for (int i = 0; i < workers_; ++i) pool.emplace_back([&] { work(); });
    try {
      consume_in_order(consume, side != nullptr);
    } catch (...) {
      fail(std::current_exception());  // the threads stop, and are joined below, before it is rethrown
    }
    stop_and_join(reader, side_thread, pool);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  struct Job {
    uint64_t seq;
    Block block;
  };

  // Hands the parsed batches to `consume` in input order until the input ends or a thread fails.
  void consume_in_order(const ConsumeFn& consume, bool to_side) {
    uint64_t next = 0;
    for (;;) {
      std::unique_ptr<Batch> batch;
      bool refill = false;
      {
        std::unique_lock lock(mutex_);
        done_cv_.wait(lock, [&] { return done_.count(next) || (reader_done_ && next == produced_) || error_; });
        if (!done_.count(next)) break;  // all consumed, or a worker failed
        batch = std::move(done_[next]);
        done_.erase(next);
        refill = --in_flight_ == low_water();
      }
      if (refill) reader_cv_.notify_one();
      try {
        consume(*batch);
      } catch (...) {
        recycle(std::move(batch));
        throw;
      }
      if (to_side) {
        pass_to_side(std::move(batch));
      } else {
        recycle(std::move(batch));
      }
      ++next;
    }
  }

  void stop_and_join(std::thread& reader, std::thread& side_thread, std::vector<std::thread>& pool) {
    if (side_thread.joinable()) {
      {
        std::lock_guard lock(side_mutex_);
        side_end_ = true;
      }
      side_cv_.notify_all();
      side_thread.join();
    }
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    notify_everyone();
    reader.join();
    for (auto& t : pool) t.join();
  }

  void recycle(std::unique_ptr<Batch> batch) {
    batch->clear();  // keeps its capacity: recycled, so no fresh pages per block
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(batch));
  }

  void pass_to_side(std::unique_ptr<Batch> batch) {
    {
      std::unique_lock lock(side_mutex_);
      side_room_cv_.wait(lock, [&] { return side_queue_.size() < kSideLag; });
      side_queue_.push_back(std::move(batch));
      ++side_pending_;
    }
    side_cv_.notify_one();
  }

  void consume_side(const ConsumeFn& side) {
    bool failed = false;
    for (;;) {
      std::unique_ptr<Batch> batch;
      {
        std::unique_lock lock(side_mutex_);
        side_cv_.wait(lock, [&] { return !side_queue_.empty() || side_end_; });
        if (side_queue_.empty()) return;
        batch = std::move(side_queue_.front());
        side_queue_.erase(side_queue_.begin());
      }
      if (!failed) {
        try {
          side(*batch);
        } catch (...) {
          failed = true;  // the batches still queued are only recycled
          fail(std::current_exception());
        }
      }
      recycle(std::move(batch));
      {
        std::lock_guard lock(side_mutex_);
        --side_pending_;
      }
      side_room_cv_.notify_all();
    }
  }

 public:
  // From the first consumer: waits until the side consumer has seen every batch handed to it
  // so far (e.g. to save a state both consumers make at this point of the input).
  void wait_for_side() {
    std::unique_lock lock(side_mutex_);
    side_room_cv_.wait(lock, [&] { return side_pending_ == 0; });
  }

 private:
  void read_all(std::vector<std::unique_ptr<ByteSource>>& sources) {
    try {
      for (auto& src : sources) {
        for (;;) {
          bool stopping;
          {
            std::unique_lock lock(mutex_);
            if (in_flight_ >= max_in_flight())
              reader_cv_.wait(lock, [&] { return in_flight_ <= low_water() || stop_; });
            stopping = stop_;
          }
          if (stopping) return finish_reading();  // it takes the lock itself
          Block b;
          try {
            b = src->next_block();
          } catch (const InputError& e) {
            std::lock_guard lock(mutex_);
            warnings_.push_back(e.what());
            break;
          }
          if (b.empty()) break;
          {
            std::lock_guard lock(mutex_);
            jobs_.push_back(Job{produced_++, std::move(b)});
            ++in_flight_;
          }
          work_cv_.notify_one();
        }
      }
    } catch (...) {
      fail(std::current_exception());
    }
    finish_reading();
  }

  void finish_reading() {
    {
      std::lock_guard lock(mutex_);
      reader_done_ = true;
    }
    notify_everyone();
  }

  void notify_everyone() {
    work_cv_.notify_all();
    done_cv_.notify_all();
    reader_cv_.notify_all();
  }

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        work_cv_.wait(lock, [&] { return !jobs_.empty() || reader_done_ || stop_; });
        if (stop_ || jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.erase(jobs_.begin());
      }
      std::unique_ptr<Batch> batch;
      {
        std::lock_guard lock(mutex_);
        if (!free_.empty()) {
          batch = std::move(free_.back());
          free_.pop_back();
        }
      }
      if (!batch) batch = std::make_unique<Batch>();
      try {
        if (job.block.deferred_from) job.block.deferred_from->read_deferred(job.block);
        parse_(job.block, *batch);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      {
        std::lock_guard lock(mutex_);
        done_[job.seq] = std::move(batch);
      }
      done_cv_.notify_one();  // only the consumer waits on it
    }
  }

  void fail(std::exception_ptr e) {
    {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = e;
    }
    notify_everyone();
  }

 public:
  // Inputs that ended early, one message each; read after run().
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  static constexpr size_t kSideLag = 2;
  size_t max_in_flight() const { return size_t(workers_) * 2 + 2; }
  size_t low_water() const { return max_in_flight() / 2; }

  int workers_;
  ParseFn parse_;
  std::mutex mutex_;
  std::condition_variable reader_cv_;  // the reader: room for blocks, or stop
  std::condition_variable work_cv_;    // workers: a job, the end of input, or stop
  std::condition_variable done_cv_;    // the consumer: a parsed batch, the end, or an error
  std::vector<Job> jobs_;
  std::map<uint64_t, std::unique_ptr<Batch>> done_;
  std::vector<std::unique_ptr<Batch>> free_;
  uint64_t produced_ = 0;
  size_t in_flight_ = 0;
  bool reader_done_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::string> warnings_;
  std::mutex side_mutex_;
  std::condition_variable side_cv_;       // the side consumer: a batch, or the end
  std::condition_variable side_room_cv_;  // the first consumer: room in the side queue, or the side idle
  std::vector<std::unique_ptr<Batch>> side_queue_;
  size_t side_pending_ = 0;  // handed to the side consumer and not yet done: the queue and the one it holds
  bool side_end_ = false;
};

}  // namespace sw::logio
