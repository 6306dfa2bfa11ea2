#include "hsm/session_pool.hpp"

#include "sigil/common/log.hpp"

namespace sigil::hsm {

SessionPool::SessionPool(std::shared_ptr<Module> module, CK_SLOT_ID slot, SecretString pin, unsigned size)
    : module_(std::move(module)), slot_(slot), pin_(std::move(pin)), size_(size == 0 ? 1 : size) {
  // Open and log in one session up front so a wrong PIN fails at startup, not at the first request.
  idle_.push_back(open_session());
}

SessionPool::~SessionPool() {
  {
    // Closing the holder destroys the session-object key copies it owns.
    std::lock_guard lock(holder_mutex_);
    if (holder_ != CK_INVALID_HANDLE) fn()->C_CloseSession(holder_);
  }
  std::lock_guard lock(mutex_);
  for (const auto s : idle_) fn()->C_CloseSession(s);
}

CK_SESSION_HANDLE SessionPool::open_session() {
  const CK_SESSION_HANDLE s = open_logged_in_session();
  ++open_;
  return s;
}

CK_SESSION_HANDLE SessionPool::open_logged_in_session() {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  check_rv(fn()->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), "C_OpenSession");
  // A new session inherits the application's login unless the token dropped it (all sessions
  // closed, token re-inserted): then log in again so the pool heals without a restart.
  CK_SESSION_INFO info{};
  if (!pin_.empty() && fn()->C_GetSessionInfo(s, &info) == CKR_OK && info.state != CKS_RW_USER_FUNCTIONS &&
      info.state != CKS_RO_USER_FUNCTIONS) {
    try {
      login(s);
    } catch (...) {
      fn()->C_CloseSession(s);
      throw;
    }
  }
  return s;
}

void SessionPool::login(CK_SESSION_HANDLE s) {
  // Login state is per application and token: one login serves every session of the slot.
  std::string pin(pin_.view());
  const CK_RV rv = fn()->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()), pin.size());
  secure_wipe(pin.data(), pin.size());
  // A login that was needed means the previous one was lost, and with it (PKCS#11: logout destroys
  // private session objects; SoftHSM2 also invalidates handles of private token objects) every key
  // handle taken before. The first login also advances it, harmlessly: nothing was cached yet.
  if (rv == CKR_OK) generation_.fetch_add(1, std::memory_order_acq_rel);
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) return;
  if (rv == CKR_PIN_INCORRECT) {
    throw Error(Errc::hsm_pin_incorrect,
                "C_Login: the user PIN is wrong (CKR_PIN_INCORRECT); check hsm.user_pin. Sigil tries once per "
                "start so a wrong PIN does not lock the token");
  }
  throw_rv(rv, "C_Login");
}

CK_SESSION_HANDLE SessionPool::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    const auto s = idle_.back();
    idle_.pop_back();
    return s;
  }
  return open_session();
}

void SessionPool::release(CK_SESSION_HANDLE s, bool healthy) {
  {
    std::lock_guard lock(mutex_);
    if (healthy) {
      idle_.push_back(s);
    } else {
      fn()->C_CloseSession(s);  // may fail: the session is already gone
      --open_;
      ++replaced_;
      // What killed this session (all sessions closed, token removed) has usually killed the
      // idle ones too: drop those that no longer answer so the retry gets a fresh session.
      std::erase_if(idle_, [&](CK_SESSION_HANDLE idle) {
        CK_SESSION_INFO info{};
        if (fn()->C_GetSessionInfo(idle, &info) == CKR_OK) return false;
        fn()->C_CloseSession(idle);
        --open_;
        ++replaced_;
        return true;
      });
    }
  }
  available_.notify_one();
  if (!healthy) check_key_holder();
}

void SessionPool::check_key_holder() {
  std::lock_guard lock(holder_mutex_);
  if (holder_ == CK_INVALID_HANDLE) return;
  CK_SESSION_INFO info{};
  if (fn()->C_GetSessionInfo(holder_, &info) == CKR_OK &&
      (info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS)) {
    return;
  }
  drop_key_holder();
}

void SessionPool::drop_key_holder() {
  fn()->C_CloseSession(holder_);  // may fail: the session is already gone
  holder_ = CK_INVALID_HANDLE;
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::uint64_t SessionPool::run_on_key_holder(const char* what, const std::function<CK_RV(CK_SESSION_HANDLE)>& op) {
  std::lock_guard lock(holder_mutex_);
  for (int attempt = 0;; ++attempt) {
    if (holder_ == CK_INVALID_HANDLE) {
      holder_ = open_logged_in_session();
      // A new holder owns none of the objects the old one made.
      generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    const std::uint64_t generation = generation_.load(std::memory_order_acquire);
    const CK_RV rv = op(holder_);
    if (is_session_failure(rv) && attempt == 0) {
      log::warn("PKCS#11 {} on the key holder session failed with {}; replacing it and retrying once", what,
                rv_name(rv));
      drop_key_holder();
      std::lock_guard pool_lock(mutex_);
      ++retries_;
      ++replaced_;
      continue;
    }
    if (rv != CKR_OK) throw_rv(rv, what);
    return generation;
  }
}

void SessionPool::run(const char* what, const std::function<CK_RV(CK_SESSION_HANDLE)>& op) {
  for (int attempt = 0;; ++attempt) {
    const CK_SESSION_HANDLE s = acquire();
    CK_RV rv = CKR_GENERAL_ERROR;
    try {
      rv = op(s);
    } catch (...) {
      release(s, true);
      throw;
    }
    if (rv == CKR_USER_NOT_LOGGED_IN && attempt == 0) {
      // The token forgot our login (e.g. it was re-inserted): log in again and retry once.
      try {
        login(s);
      } catch (...) {
        release(s, false);
        throw;
      }
      release(s, true);
      std::lock_guard lock(mutex_);
      ++retries_;
      continue;
    }
    if (is_session_failure(rv) && attempt == 0) {
      log::warn("PKCS#11 {} failed with {}; replacing the session and retrying once", what, rv_name(rv));
      release(s, false);
      std::lock_guard lock(mutex_);
      ++retries_;
      continue;
    }
    release(s, !is_session_failure(rv));
    if (rv != CKR_OK) throw_rv(rv, what);
    return;
  }
}

void SessionPool::close_all_sessions_for_test() {
  fn()->C_CloseAllSessions(slot_);
}

PoolStats SessionPool::stats() const {
  std::lock_guard lock(mutex_);
  return {open_, static_cast<unsigned>(idle_.size()), replaced_, retries_};
}

}  // namespace sigil::hsm
