// Append-only sequence in fixed chunks: elements never move (references stay valid as it
// grows, like std::deque), growth never copies, and indexing is one shift into a small
// chunk table that stays in cache. std::deque's 512-byte nodes hold only a few large
// elements, so its node map grows large and costs a cache miss per lookup.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace sw {

template <class T, size_t kChunkBits = 10>
class ChunkedVector {
  static constexpr size_t kChunk = size_t(1) << kChunkBits;

 public:
  T& operator[](size_t i) { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("ChunkedVector::at");
    return (*this)[i];
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T& emplace_back() {
    if ((size_ & (kChunk - 1)) == 0) chunks_.push_back(std::make_unique<T[]>(kChunk));
    return (*this)[size_++];
  }

  template <class Self, class Elem>
  class Iter {
   public:
    Iter(Self* v, size_t i) : v_(v), i_(i) {}
    Elem& operator*() const { return (*v_)[i_]; }
    Elem* operator->() const { return &(*v_)[i_]; }
    Iter& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iter& o) const { return i_ == o.i_; }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    Self* v_;
    size_t i_;
  };
  using iterator = Iter<ChunkedVector, T>;
  using const_iterator = Iter<const ChunkedVector, const T>;
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace sw
