// Little-endian binary writing and bounds-checked reading of the engine's state, for the
// summary cache of rotated logs. Both stream: the state of a week of log is tens of MB, and
// holding it whole beside the engine would cost that much memory again. The reader never
// trusts a length: every read is checked against what is left, and a failed read throws
// StateError, which the cache treats as a miss. A checksum of every byte passed is kept on
// both sides (StreamChecksum): a reader's result counts only once the checksum matched.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <isa-l/crc64.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/civil_time.h"
#include "base/text.h"

namespace sw::stats {

struct StateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A checksum of a byte stream that does not depend on how the stream was cut into pieces:
// a CRC-64 of each 1 MB block, chained, with the length. ISA-L's CRC (carry-less multiplies,
// tens of GB/s) costs a fraction of a hash's serial chain of multiplies over a 100 MB entry.
class StreamChecksum {
 public:
  static constexpr size_t kBlock = 1 << 20;
  void add(std::string_view s) {
    total_ += s.size();
    for (; block_.empty() && s.size() >= kBlock; s.remove_prefix(kBlock)) chain(crc(s.substr(0, kBlock)));
    while (!s.empty()) {
      size_t n = std::min(kBlock - block_.size(), s.size());
      block_.append(s.data(), n);
      s.remove_prefix(n);
      if (block_.size() == kBlock) {
        chain(crc(block_));
        block_.clear();
      }
    }
  }
  uint64_t value() const { return mixed(chained_, crc(block_)) ^ total_; }

 private:
  static uint64_t crc(std::string_view s) {
    return crc64_ecma_refl(0, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  }
  static uint64_t mixed(uint64_t a, uint64_t b) { return (a ^ b) * 0x9E3779B97F4A7C15ull + (a >> 29); }
  void chain(uint64_t h) { chained_ = mixed(chained_, h); }
  std::string block_;
  uint64_t chained_ = 0x5357'4C4F'4753'554Dull, total_ = 0;
};

class StateWriter {
 public:
  // `sink` receives the bytes in pieces of about 1 MB; without one they stay in bytes().
  explicit StateWriter(std::function<bool(std::string_view)> sink = nullptr) : sink_(std::move(sink)) {}
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    // No padding: its bytes are whatever the memory held, and would go to disk with the rest.
    static_assert(std::has_unique_object_representations_v<T>, "a type written whole must have no padding");
    put({reinterpret_cast<const char*>(&v), sizeof v});
  }
  void u64(uint64_t v) { pod(v); }
  void str(std::string_view s) {
    u64(s.size());
    put(s);
  }
  void raw(std::string_view s) { put(s); }
  // Hands the rest to the sink; false if the sink failed at any point.
  bool finish() {
    flush();
    return ok_;
  }
  std::string& bytes() { return out_; }
  uint64_t size() const { return size_; }
  uint64_t checksum() const { return checksum_.value(); }

 private:
  void put(std::string_view s) {
    out_.append(s);
    size_ += s.size();
    if (sink_ && out_.size() >= StreamChecksum::kBlock) flush();
  }
  void flush() {
    checksum_.add(out_);
    if (!sink_) return;
    ok_ = ok_ && sink_(out_);
    out_.clear();
  }
  std::function<bool(std::string_view)> sink_;
  std::string out_;
  uint64_t size_ = 0;
  StreamChecksum checksum_;
  bool ok_ = true;
};

class StateReader {
 public:
  // Reads `in` whole, or, with `source`, pulls the bytes from it in pieces (it appends up to
  // the number asked for and returns how many it gave; 0 at the end).
  explicit StateReader(std::string_view in) : in_(in), end_(in.size()) {}
  StateReader(std::function<size_t(std::string& buffer, size_t max)> source, uint64_t size)
      : source_(std::move(source)), end_(size) {}

  // The same bytes are also mapped at `bytes` (a cache entry's file), kept alive by `owner`:
  // str_in_place() then hands out views into the mapping, which stay valid after the read.
  void set_backing(const char* bytes, std::shared_ptr<const void> owner) {
    mapped_ = bytes;
    backing_ = std::move(owner);
  }
  // What keeps str_in_place()'s views alive; null when they point into the read buffer.
  const std::shared_ptr<const void>& backing() const { return backing_; }
  // A string, read (and checksummed) as str() reads it, as the same bytes in the mapping when
  // there is one: a reader can keep such a view instead of a copy, and the pages behind it
  // are not touched, nor resident, until it is used.
  std::string_view str_in_place() {
    std::string_view s = str();
    return mapped_ ? std::string_view(mapped_ + (pos_ - s.size()), s.size()) : s;
  }

  template <class T>
  T pod() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  uint64_t u64() { return pod<uint64_t>(); }
  // A time a log can give: anything else is damage (and would overflow the arithmetic on it).
  CivilSeconds time() { return checked_time(pod<CivilSeconds>()); }
  CivilSeconds checked_time(CivilSeconds t) const {
    if (!is_civil_time(t)) fail("a time out of range");
    return t;
  }
  // A count of items that each take at least `min_item_bytes`: more than could follow is damage.
  uint64_t count(size_t min_item_bytes) {
    uint64_t n = u64();
    if (min_item_bytes && n > left() / min_item_bytes) fail("a count larger than the data");
    return n;
  }
  std::string_view str() { return take(count(1)); }
  // The next n bytes, valid until the next read.
  std::string_view take(uint64_t n) {
    if (n > left()) fail("the data ends early");
    if (source_) return take_streamed(n);
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t left() const { return end_ - pos_; }
  // The checksum of what was read so far: the whole stream's once left() is 0. Summed over
  // what was fetched, in bulk (per read value, it cost a fifth of a load), which is what was
  // read once left() is 0, the only time the result is trusted.
  uint64_t checksum() const {
    if (source_) return checksum_.value();
    StreamChecksum whole;
    whole.add(in_.substr(0, pos_));
    return whole.value();
  }
  [[noreturn]] void fail(const char* why) const { throw StateError(why); }

 private:
  std::string_view take_streamed(uint64_t n) {
    if (buffer_.size() - at_ < n) {
      buffer_.erase(0, at_);
      at_ = 0;
      uint64_t unfetched = end_ - fetched_;
      size_t want =
          size_t(std::min<uint64_t>(std::max<uint64_t>(n - buffer_.size(), StreamChecksum::kBlock), unfetched));
      while (buffer_.size() < n) {
        size_t before = buffer_.size();
        if (source_(buffer_, want) == 0 || buffer_.size() == before) fail("the data ends early");
        if (buffer_.size() - before > end_ - fetched_) fail("the source gave more than the data");
        checksum_.add(std::string_view(buffer_).substr(before));
        fetched_ += buffer_.size() - before;
      }
    }
    std::string_view s(buffer_.data() + at_, n);
    at_ += n;
    pos_ += n;
    return s;
  }
  std::function<size_t(std::string&, size_t)> source_;
  std::string_view in_;
  std::string buffer_;
  size_t at_ = 0;
  uint64_t pos_ = 0, end_ = 0, fetched_ = 0;
  StreamChecksum checksum_;
  const char* mapped_ = nullptr;
  std::shared_ptr<const void> backing_;
};

}  // namespace sw::stats
