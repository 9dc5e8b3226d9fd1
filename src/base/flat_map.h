// Open-addressing hash map (linear probing, backward-shift deletion) for the hot paths that
// insert and erase millions of small entries: no node allocation per entry.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/probe_run.h"

namespace sw {

template <class Key, class Value, class Hash>
class FlatMap {
 public:
  FlatMap() { slots_.resize(16); }

  Value* find(const Key& k) { return const_cast<Value*>(std::as_const(*this).find(k)); }
  const Value* find(const Key& k) const {
    size_t i = home(k);
    for (;;) {
      const Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == k) return &s.value;
      i = (i + 1) & mask();
    }
  }

  // Inserts a default value if absent; returns it.
  Value& operator[](const Key& k) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = home(k);
    for (;;) {
      Slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.key = k;
        s.value = Value{};
        ++size_;
        return s.value;
      }
      if (s.key == k) return s.value;
      i = (i + 1) & mask();
    }
  }

  bool erase(const Key& k) {
    size_t i = home(k);
    for (;;) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == k) break;
      i = (i + 1) & mask();
    }
    i = shift_back(
        i, [&](size_t j) { return (j + 1) & mask(); }, [&](size_t j) { return slots_[j].used; },
        [&](size_t j) { return home(slots_[j].key); },
        [&](size_t to, size_t from) { slots_[to] = std::move(slots_[from]); });
    slots_[i].used = false;
    slots_[i].value = Value{};
    --size_;
    return true;
  }

  size_t size() const { return size_; }
  // Room for `n` entries without growing on the way (a table loaded whole).
  void reserve(size_t n) {
    size_t slots = slots_.size();
    while (n * 4 > slots * 3) slots *= 2;
    if (slots != slots_.size()) rehash(slots);
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }
  template <class F>
  void for_each(F&& f) {
    for (Slot& s : slots_)
      if (s.used) f(std::as_const(s.key), s.value);
  }

  // Starts loading the slot where a lookup of `k` begins, so a later find() need not wait
  // on a cache miss.
  void prefetch(const Key& k) const { __builtin_prefetch(&slots_[home(k)]); }

 private:
  struct Slot {
    Key key{};
    Value value{};
    bool used = false;
  };
  size_t mask() const { return slots_.size() - 1; }
  size_t home(const Key& k) const { return Hash{}(k)&mask(); }
  void grow() { rehash(slots_.size() * 2); }
  void rehash(size_t slots) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(slots);
    size_ = 0;
    for (Slot& s : old)
      if (s.used) (*this)[s.key] = std::move(s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace sw
