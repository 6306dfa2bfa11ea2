// Signing lanes of a token (private to src/hsm; see docs/adr/0007-session-key-cache.md).
#pragma once

#include <atomic>
#include <memory>

namespace sigil::hsm {

// Signing lanes: a signature leases a lane for its C_SignInit + C_Sign and signs with the key copy
// of that lane, so concurrent signatures never share a copy while there are as many lanes as
// signatures in flight. With more in flight than lanes, a signature shares a lane (and a copy):
// slower, never wrong.
class Lanes {
 public:
  explicit Lanes(unsigned n) : n_(n == 0 ? 1 : n), busy_(std::make_unique<Flag[]>(n_)) {}

  class Lease {
   public:
    Lease(Lanes& lanes, unsigned index, bool held) : lanes_(lanes), index_(index), held_(held) {}
    ~Lease() {
      if (held_) lanes_.busy_[index_].v.store(false, std::memory_order_release);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    unsigned index() const { return index_; }
    bool held() const { return held_; }  // false: every lane was busy, this one is shared

   private:
    Lanes& lanes_;
    unsigned index_;
    bool held_;
  };

  Lease take() {
    const unsigned start = next_.fetch_add(1, std::memory_order_relaxed) % n_;
    for (unsigned i = 0; i < n_; ++i) {
      const unsigned k = (start + i) % n_;
      bool expected = false;
      if (!busy_[k].v.load(std::memory_order_relaxed) &&
          busy_[k].v.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        return Lease(*this, k, true);
      }
    }
    return Lease(*this, start, false);
  }

 private:
  struct alignas(64) Flag {  // one cache line each: the two cores do not fight over a line
    std::atomic<bool> v{false};
  };
  unsigned n_;
  std::unique_ptr<Flag[]> busy_;
  std::atomic<unsigned> next_{0};
};

}  // namespace sigil::hsm
