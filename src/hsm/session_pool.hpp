// A bounded pool of logged-in sessions on one token. One session per in-flight operation; a
// session that failed is discarded (closed if possible) instead of being returned.
//
// Besides the pool, a "key holder" session (opened on first use, never handed out for operations)
// owns the session objects the token creates for us: PKCS#11 destroys a session object with the
// session that created it and destroys every private session object at logout. The pool therefore
// keeps a key generation that changes whenever such objects may have vanished (the holder was
// replaced, the user had to log in again); handles made under an older generation must not be used.
//
// Module finalized behind our back (see module.hpp): every call runs inside a Module::Call and the
// pool remembers the module epoch its sessions belong to. An operation failing with
// CKR_CRYPTOKI_NOT_INITIALIZED, or with a dead session while the module's sentinel says the instance
// changed, makes the module re-initialise (once across threads) and is retried once, like any
// session failure. The first call of a new epoch resets the pool: every session and the key holder
// are forgotten (not closed: their numbers may be reused by the new instance), the slot is found
// again by token serial (slot ids can change), the key generation advances (cached object handles
// and session key copies are dropped), and new sessions log in again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "hsm/module.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/hsm/token.hpp"

namespace sigil::hsm {

class SessionPool {
 public:
  // `serial` and `label` identify the token when its slot has to be found again (serial first).
  SessionPool(std::shared_ptr<Module> module, CK_SLOT_ID slot, std::string serial, std::string label,
              SecretString pin, unsigned size);
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  // Runs `op` with a session. If it throws a session failure (see is_session_failure), the session
  // is discarded, the user logged in again if needed, and `op` runs once more on a fresh session.
  // `op` returns CK_RV; anything else than CKR_OK is thrown as Error naming `what`. A Pkcs11Error
  // with a session failure thrown by `op` counts as that CK_RV returned (so `op` must be safe to
  // run again after it threw one). A retry only ever follows an attempt that failed, so an `op` that
  // returns CKR_OK after producing its result (a signature) never runs twice.
  void run(const char* what, const std::function<CK_RV(CK_SESSION_HANDLE)>& op);

  // Runs `op` on the key holder session, serialised (a session is not thread-safe). A holder that
  // died (op returned a session failure) is replaced, the key generation advances, and `op` runs
  // once more. Returns the key generation `op` ran under: tag the session objects it made with it.
  std::uint64_t run_on_key_holder(const char* what, const std::function<CK_RV(CK_SESSION_HANDLE)>& op);
  std::uint64_t key_generation() const { return generation_.load(std::memory_order_acquire); }
  // The module epoch the pool's handles belong to (read it inside an op: object handles found in
  // an op are valid only while it stays the same).
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // The token's slot id under the current epoch (read it inside an op).
  CK_SLOT_ID slot() const { return slot_.load(std::memory_order_acquire); }

  // Closes every session of the slot behind the pool's back (tests: recovery).
  void close_all_sessions_for_test();
  PoolStats stats() const;
  CK_FUNCTION_LIST* fn() const { return module_->fn(); }

 private:
  struct InstanceGone {};  // thrown before an op ran: the module must be re-initialised first
  // Caller holds a Module::Call under `module_epoch`: resets the pool if it belongs to an older one.
  void sync(std::uint64_t module_epoch);
  CK_SLOT_ID find_slot();
  CK_SESSION_HANDLE acquire();
  void release(CK_SESSION_HANDLE s, bool healthy);
  CK_SESSION_HANDLE open_session();            // counted in open_; caller holds mutex_
  CK_SESSION_HANDLE open_logged_in_session();  // not counted; throws InstanceGone
  void login(CK_SESSION_HANDLE s);
  // After a session failure: if the key holder no longer answers or lost the login, drop it so the
  // next use reopens it, and advance the generation now (before the failed operation is retried).
  void check_key_holder();
  void drop_key_holder();  // caller holds holder_mutex_

  std::shared_ptr<Module> module_;
  std::atomic<CK_SLOT_ID> slot_;
  std::string serial_, label_;
  std::atomic<std::uint64_t> epoch_{0};  // module epoch the sessions, holder and slot belong to
  SecretString pin_;  // kept for re-login after a token-side logout; wiped with the pool
  unsigned size_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<CK_SESSION_HANDLE> idle_;
  unsigned open_ = 0;
  unsigned long long replaced_ = 0;
  unsigned long long retries_ = 0;
  unsigned long long recoveries_ = 0;

  // Lock order: Module::Call, then holder_mutex_, then mutex_ (then the module's sentinel mutex).
  std::mutex holder_mutex_;
  CK_SESSION_HANDLE holder_ = CK_INVALID_HANDLE;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace sigil::hsm
