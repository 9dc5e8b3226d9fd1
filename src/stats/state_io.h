// Little-endian binary writing and bounds-checked reading of the engine's state, for the
// per-file summary cache. The reader never trusts a length: every read is checked against
// what is left, and a failed read throws StateError, which the cache treats as a miss.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace sw::stats {

struct StateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class StateWriter {
 public:
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void u64(uint64_t v) { pod(v); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in) {}
  template <class T>
  T pod() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  uint64_t u64() { return pod<uint64_t>(); }
  // A count of items that each take at least `min_item_bytes`: more than could follow is damage.
  uint64_t count(size_t min_item_bytes) {
    uint64_t n = u64();
    if (min_item_bytes && n > left() / min_item_bytes) throw StateError("a count larger than the data");
    return n;
  }
  std::string_view str() { return take(count(1)); }
  std::string_view take(uint64_t n) {
    if (n > left()) throw StateError("the data ends early");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  size_t left() const { return in_.size() - pos_; }
  [[noreturn]] void fail(const char* why) const { throw StateError(why); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace sw::stats
