// A loaded PKCS#11 module: dlopen, C_GetFunctionList, C_Initialize with OS locking.
// PKCS#11 state is per process (C_Initialize once), so modules are shared by path.
//
// Recovery from a finalize behind our back (another library in the process, or an HSM client
// resetting itself, calls C_Finalize and perhaps C_Initialize again): every handle we hold then
// belongs to a dead module instance, and a new instance hands out the same numbers again, so a stale
// handle may name somebody else's session or key. Hence:
//  - Every PKCS#11 call the layer makes on a module runs inside a Module::Call (the call gate, held
//    shared). Re-initialisation holds the gate exclusively, so no call of ours is inside the module
//    while we call C_Initialize, and no handle of an older epoch is used after it.
//  - The module keeps an epoch: it advances once per re-initialisation (reinitialize() serialises
//    them: N threads that saw the failure under epoch E cause one C_Initialize). Everything holding
//    handles (SessionPool) remembers the epoch they belong to and forgets, never closes, them when
//    the epoch moved on.
//  - A finalize followed at once by C_Initialize by somebody else shows no
//    CKR_CRYPTOKI_NOT_INITIALIZED, only dead sessions. instance_alive() tells that apart from an
//    ordinary lost session with a sentinel: a public session object holding a random value, in a
//    session of its own. If it no longer reads back, the instance changed and the caller treats it
//    as a re-initialisation (C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED, the epoch moves).
//    Sessions are opened only after instance_alive() said yes, so no new handle of ours can collide
//    with a stale one.
// Thread-safety assumptions: the module is initialised with CKF_OS_LOCKING_OK and is thread-safe
// for calls on distinct sessions; C_Initialize/C_Finalize are not safe concurrently with other calls
// (PKCS#11 leaves that undefined; SoftHSM2 frees its state in C_Finalize), which the gate guarantees
// for our own calls. A C_Finalize by somebody else while one of our calls is inside the module is
// outside what any caller can make safe; we heal after it, we cannot make it harmless.
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sigil/common/error.hpp"

namespace sigil::hsm {

// Stable name of a return value ("CKR_PIN_INCORRECT"), or hex.
std::string rv_name(CK_RV rv);

// What throw_rv throws: an Error that still knows its CK_RV, so the session pool can tell a session
// failure thrown from inside an operation from any other error.
class Pkcs11Error : public Error {
 public:
  Pkcs11Error(Errc code, std::string detail, CK_RV rv) : Error(code, std::move(detail)), rv_(rv) {}
  CK_RV rv() const noexcept { return rv_; }

 private:
  CK_RV rv_;
};

// Translates a CK_RV into sigil::Error once, at the boundary.
[[noreturn]] void throw_rv(CK_RV rv, const std::string& what);
inline void check_rv(CK_RV rv, const char* what) {
  if (rv != CKR_OK) throw_rv(rv, what);
}
// Sessions that fail with these are discarded and the operation retried once. Includes
// CKR_CRYPTOKI_NOT_INITIALIZED (the module was finalized: every session is gone with it).
bool is_session_failure(CK_RV rv);
std::string mechanism_name(CK_MECHANISM_TYPE m);
// Fixed-width, space-padded PKCS#11 text fields.
std::string trim_padded(const unsigned char* data, std::size_t size);

// A readers-writer lock that prefers writers: a re-initialisation waiting for the calls in flight is
// not starved by new ones (glibc's pthread_rwlock, behind std::shared_mutex, prefers readers).
// Not recursive: a thread holding it shared must not take it again (a waiting writer would block it).
// Readers take it with one atomic operation while no writer waits: every PKCS#11 call takes it, and
// a mutex there made concurrent signers sleep on each other (futex waits, ~4x the context switches).
class CallGate {
 public:
  void lock_shared();
  void unlock_shared();
  void lock();
  void unlock();

 private:
  static constexpr std::uint32_t kWriter = 0x80000000u;  // a writer waits or holds: readers wait
  std::atomic<std::uint32_t> state_{0};                   // kWriter | number of readers inside
  std::mutex mutex_;                                      // the slow paths (writers, readers waiting)
  std::condition_variable cv_;
  unsigned writers_ = 0;  // waiting or holding; under mutex_
  bool writer_ = false;   // one holds it; under mutex_
};

class Module {
 public:
  static std::shared_ptr<Module> load(const std::filesystem::path& path);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Held (shared) around every call into the module; the epoch cannot change while it is held.
  class Call {
   public:
    explicit Call(Module& module) : module_(module) { module_.gate_.lock_shared(); }
    ~Call() { module_.gate_.unlock_shared(); }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    std::uint64_t epoch() const { return module_.epoch(); }

   private:
    Module& module_;
  };

  CK_FUNCTION_LIST* fn() const { return fn_; }
  const std::filesystem::path& path() const { return path_; }
  std::vector<CK_SLOT_ID> slots(bool token_present);

  // Advances once per re-initialisation by this layer (see above).
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // After a call made under `seen_epoch` found the module finalized (or its instance changed):
  // C_Initialize with CKF_OS_LOCKING_OK (CKR_CRYPTOKI_ALREADY_INITIALIZED is fine: somebody else
  // did it) and advance the epoch, unless another thread has done so since `seen_epoch`. Holds the
  // gate exclusively: the caller must not hold a Call. Throws Error if C_Initialize fails.
  void reinitialize(std::uint64_t seen_epoch);
  // Whether the module instance of the current epoch is still the one the module has now (see
  // above). Caller holds a Call; `slot` is where to open the sentinel's session if there is none
  // yet for this epoch. True also when the module cannot hold a sentinel (nothing to compare).
  bool instance_alive(CK_SLOT_ID slot) noexcept;
  // C_Initialize calls made by reinitialize() in this process.
  unsigned long long reinitializations() const { return reinits_.load(std::memory_order_relaxed); }
  // Test hook: C_Finalize (and C_Initialize again if `initialize_again`) with the gate held
  // exclusively, so that it falls between our calls. The epoch is left alone: the layer is not told.
  void finalize_for_test(bool initialize_again);

 private:
  Module(std::filesystem::path path, void* handle, CK_FUNCTION_LIST* fn, bool owns_init);
  std::filesystem::path path_;
  void* handle_;
  CK_FUNCTION_LIST* fn_;
  bool owns_init_;  // we called the C_Initialize in force: C_Finalize at unload

  CallGate gate_;
  std::atomic<std::uint64_t> epoch_{0};  // written with gate_ held exclusively
  std::atomic<unsigned long long> reinits_{0};

  std::mutex sentinel_mutex_;  // the sentinel's session is not shared between threads
  CK_SESSION_HANDLE sentinel_session_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE sentinel_object_ = CK_INVALID_HANDLE;
  std::uint64_t sentinel_epoch_ = 0;
  bool sentinel_unsupported_ = false;
  unsigned char sentinel_value_[16] = {};
};

}  // namespace sigil::hsm
