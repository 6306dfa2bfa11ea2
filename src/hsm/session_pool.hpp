// A bounded pool of logged-in sessions on one token. One session per in-flight operation; a
// session that failed is discarded (closed if possible) instead of being returned.
#pragma once

#include <condition_variable>
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
  SessionPool(std::shared_ptr<Module> module, CK_SLOT_ID slot, SecretString pin, unsigned size);
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  // Runs `op` with a session. If it throws a session failure (see is_session_failure), the session
  // is discarded, the user logged in again if needed, and `op` runs once more on a fresh session.
  // `op` returns CK_RV; anything else than CKR_OK is thrown as Error naming `what`.
  void run(const char* what, const std::function<CK_RV(CK_SESSION_HANDLE)>& op);

  // Closes every session of the slot behind the pool's back (tests: recovery).
  void close_all_sessions_for_test();
  PoolStats stats() const;
  CK_FUNCTION_LIST* fn() const { return module_->fn(); }

 private:
  CK_SESSION_HANDLE acquire();
  void release(CK_SESSION_HANDLE s, bool healthy);
  CK_SESSION_HANDLE open_session();
  void login(CK_SESSION_HANDLE s);

  std::shared_ptr<Module> module_;
  CK_SLOT_ID slot_;
  SecretString pin_;  // kept for re-login after a token-side logout; wiped with the pool
  unsigned size_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<CK_SESSION_HANDLE> idle_;
  unsigned open_ = 0;
  unsigned long long replaced_ = 0;
  unsigned long long retries_ = 0;
};

}  // namespace sigil::hsm
