// Append-only sequence in fixed chunks: elements never move (references stay valid as it
// grows, like std::deque), growth never copies, and indexing is one shift into a small
// chunk table that stays in cache. std::deque's 512-byte nodes hold only a few large
// elements, so its node map grows large and costs a cache miss per lookup.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sw {

template <class T, size_t kChunkBits = 10>
class ChunkedVector {
  static constexpr size_t kChunk = size_t(1) << kChunkBits;

 public:
  T& operator[](size_t i) { return chunks_[i >> kChunkBits].get()[i & (kChunk - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kChunkBits].get()[i & (kChunk - 1)]; }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("ChunkedVector::at");
    return (*this)[i];
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  ChunkedVector() = default;
  ChunkedVector(ChunkedVector&& o) noexcept : chunks_(std::move(o.chunks_)), size_(std::exchange(o.size_, 0)) {}
  ChunkedVector& operator=(ChunkedVector&& o) noexcept {
    if (this != &o) {
      clear();
      chunks_ = std::move(o.chunks_);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~ChunkedVector() { clear(); }

  // A chunk's storage is left raw until each element is constructed in it: constructing all of
  // a fresh chunk at once (make_unique<T[]>) wrote its memory twice when the elements were then
  // filled in one by one, and a chunk of large elements is larger than the cache.
  T& emplace_back() {
    if ((size_ & (kChunk - 1)) == 0)
      chunks_.emplace_back(static_cast<T*>(::operator new(sizeof(T) * kChunk, std::align_val_t(alignof(T)))));
    T* slot = &(*this)[size_];
    new (slot) T();
    ++size_;
    return *slot;
  }

  void clear() {
    for (size_t i = 0; i < size_; ++i) (*this)[i].~T();
    size_ = 0;
    chunks_.clear();
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
  struct FreeChunk {
    void operator()(T* chunk) const { ::operator delete(chunk, std::align_val_t(alignof(T))); }
  };
  std::vector<std::unique_ptr<T, FreeChunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace sw
