// Hash map for many large entries that live long (a stuck queue's messages, millions in
// flight for hours): the open-addressing table holds only an 8-byte slot per entry, the
// entries sit in a pool of fixed chunks and never move. A FlatMap of such entries spends most
// of its memory on empty slots (the table is a quarter to five eighths empty) and needs the
// old and new table at once while it grows; here both costs fall on the 8-byte slots only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/probe_run.h"
#include "base/slot_pool.h"

namespace sw {

template <class Key, class Value, class Hash>
class PooledMap {
 public:
  PooledMap() { slots_.resize(16); }

  Value* find(const Key& k) { return const_cast<Value*>(std::as_const(*this).find(k)); }
  const Value* find(const Key& k) const {
    uint32_t code = code_of(k);
    for (size_t i = code & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.ref == 0) return nullptr;
      if (s.code == code && pool_[s.ref - 1].key == k) return &pool_[s.ref - 1].value;
    }
  }

  // Inserts a default value if absent; returns it.
  Value& operator[](const Key& k) {
    if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
    uint32_t code = code_of(k);
    for (size_t i = code & mask();; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.ref == 0) {
        s = {allocate(k), code};
        ++size_;
        return pool_[s.ref - 1].value;
      }
      if (s.code == code && pool_[s.ref - 1].key == k) return pool_[s.ref - 1].value;
    }
  }

  bool erase(const Key& k) {
    uint32_t code = code_of(k);
    size_t i = code & mask();
    for (;; i = (i + 1) & mask()) {
      if (slots_[i].ref == 0) return false;
      if (slots_[i].code == code && pool_[slots_[i].ref - 1].key == k) break;
    }
    pool_.give(slots_[i].ref - 1);
    // A slot's code gives its home without a visit to the pool.
    i = shift_back(
        i, [&](size_t j) { return (j + 1) & mask(); }, [&](size_t j) { return slots_[j].ref != 0; },
        [&](size_t j) { return slots_[j].code & mask(); }, [&](size_t to, size_t from) { slots_[to] = slots_[from]; });
    slots_[i] = Slot{};
    --size_;
    return true;
  }

  size_t size() const { return size_; }
  // Entries the pool holds, live or free: its peak size.
  size_t pooled() const { return pool_.held(); }
  // Room for `n` entries without growing on the way (a table loaded whole).
  void reserve(size_t n) {
    size_t slots = slots_.size();
    while (n * 4 > slots * 3) slots *= 2;
    if (slots != slots_.size()) rehash(slots);
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.ref != 0) f(pool_[s.ref - 1].key, pool_[s.ref - 1].value);
  }
  template <class F>
  void for_each(F&& f) {
    for (const Slot& s : slots_)
      if (s.ref != 0) f(std::as_const(pool_[s.ref - 1].key), pool_[s.ref - 1].value);
  }

 private:
  struct Entry {
    Key key{};
    Value value{};
  };
  // ref: the entry's place in the pool plus one (0: an empty slot); code: the low 32 bits of
  // the key's hash, which place the slot and spare most visits to the pool on a probe.
  struct Slot {
    uint32_t ref = 0;
    uint32_t code = 0;
  };
  static uint32_t code_of(const Key& k) { return uint32_t(Hash{}(k)); }
  size_t mask() const { return slots_.size() - 1; }

  // The pool keeps its peak size: a freed entry is taken again by the next insert.
  uint32_t allocate(const Key& k) {
    uint32_t i = pool_.take();
    pool_[i].key = k;
    return i + 1;
  }

  void rehash(size_t slots) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(slots);
    for (const Slot& s : old) {
      if (s.ref == 0) continue;
      size_t i = s.code & mask();
      while (slots_[i].ref != 0) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  SlotPool<Entry, 12> pool_;
  size_t size_ = 0;
};

}  // namespace sw
