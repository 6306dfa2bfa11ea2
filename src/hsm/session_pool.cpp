#include "hsm/session_pool.hpp"

#include "sigil/common/log.hpp"

namespace sigil::hsm {
namespace {

// Runs `op`; a session failure it throws (find_objects and friends throw) counts as returned.
CK_RV call_op(const std::function<CK_RV(CK_SESSION_HANDLE)>& op, CK_SESSION_HANDLE s) {
  try {
    return op(s);
  } catch (const Pkcs11Error& e) {
    if (is_session_failure(e.rv())) return e.rv();
    throw;
  }
}

// Re-initialisations one call may go through before any attempt ran (each one means somebody reset
// the module again in between): beyond that the module is not usable.
constexpr int kMaxResets = 3;

}  // namespace

SessionPool::SessionPool(std::shared_ptr<Module> module, CK_SLOT_ID slot, std::string serial, std::string label,
                         SecretString pin, unsigned size)
    : module_(std::move(module)),
      slot_(slot),
      serial_(std::move(serial)),
      label_(std::move(label)),
      pin_(std::move(pin)),
      size_(size == 0 ? 1 : size) {
  // Open and log in one session up front so a wrong PIN fails at startup, not at the first request.
  Module::Call call(*module_);
  epoch_.store(call.epoch(), std::memory_order_release);
  try {
    std::lock_guard lock(mutex_);
    idle_.push_back(open_session());
  } catch (const InstanceGone&) {
    throw Error(Errc::hsm_session, "the PKCS#11 module was reset while the token was being opened; try again");
  }
}

SessionPool::~SessionPool() {
  Module::Call call(*module_);
  // Handles of an older epoch or instance are not ours any more: closing them could close
  // somebody else's session. They died with their instance anyway.
  if (call.epoch() != epoch_.load(std::memory_order_acquire) || !module_->instance_alive(slot())) return;
  {
    // Closing the holder destroys the session-object key copies it owns.
    std::lock_guard lock(holder_mutex_);
    if (holder_ != CK_INVALID_HANDLE) fn()->C_CloseSession(holder_);
  }
  std::lock_guard lock(mutex_);
  for (const auto s : idle_) fn()->C_CloseSession(s);
}

CK_SLOT_ID SessionPool::find_slot() {
  for (const auto id : module_->slots(true)) {
    CK_TOKEN_INFO ti{};
    if (fn()->C_GetTokenInfo(id, &ti) != CKR_OK || (ti.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    if (serial_.empty() ? trim_padded(ti.label, sizeof ti.label) == label_
                        : trim_padded(ti.serialNumber, sizeof ti.serialNumber) == serial_) {
      return id;
    }
  }
  throw Error(Errc::hsm_token_not_found, "token '" + label_ + "' (serial " + serial_ +
                                             ") is no longer in the module after it was re-initialised");
}

void SessionPool::sync(std::uint64_t module_epoch) {
  if (epoch_.load(std::memory_order_acquire) == module_epoch) return;
  std::lock_guard holder_lock(holder_mutex_);
  std::unique_lock lock(mutex_);
  if (epoch_.load(std::memory_order_acquire) == module_epoch) return;
  // No session is in use: every call of the older epoch ended before the module advanced it, and
  // every call of this one comes through here first. Forget (do not close) the old handles.
  if (open_ > 0 || holder_ != CK_INVALID_HANDLE) {
    replaced_ += open_ + (holder_ != CK_INVALID_HANDLE ? 1 : 0);
    idle_.clear();
    open_ = 0;
    holder_ = CK_INVALID_HANDLE;
  }
  // Cached object handles and session key copies belonged to the old instance.
  generation_.fetch_add(1, std::memory_order_acq_rel);
  slot_.store(find_slot(), std::memory_order_release);  // throws Pkcs11Error, or Error(hsm_token_not_found)
  epoch_.store(module_epoch, std::memory_order_release);
  ++recoveries_;
  lock.unlock();
  available_.notify_all();
  log::info("PKCS#11 session pool of token '{}' reset after the module was re-initialised (slot {})", label_,
            slot());
}

CK_SESSION_HANDLE SessionPool::open_session() {
  const CK_SESSION_HANDLE s = open_logged_in_session();
  ++open_;
  return s;
}

CK_SESSION_HANDLE SessionPool::open_logged_in_session() {
  // A new handle must never share a number with a stale one we might still use: open sessions only
  // in the instance the pool's epoch belongs to.
  if (!module_->instance_alive(slot())) throw InstanceGone{};
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  const CK_RV rv = fn()->C_OpenSession(slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) throw InstanceGone{};
  check_rv(rv, "C_OpenSession");
  // A new session inherits the application's login unless the token dropped it (all sessions
  // closed, token re-inserted, module re-initialised): then log in again so the pool heals
  // without a restart.
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
  if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) throw InstanceGone{};
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
  bool retried = false;
  for (int resets = 0;;) {
    std::uint64_t seen = 0;
    std::uint64_t generation = 0;
    CK_RV rv = CKR_OK;
    bool gone = false;    // the module must be re-initialised before anything can run
    bool reinit = false;  // the attempt failed because the module instance is gone
    {
      Module::Call call(*module_);
      seen = call.epoch();
      try {
        sync(seen);
        std::lock_guard lock(holder_mutex_);
        if (holder_ == CK_INVALID_HANDLE) {
          holder_ = open_logged_in_session();
          // A new holder owns none of the objects the old one made.
          generation_.fetch_add(1, std::memory_order_acq_rel);
        }
        generation = generation_.load(std::memory_order_acquire);
        rv = call_op(op, holder_);
        if (is_session_failure(rv)) {
          drop_key_holder();
          reinit = rv == CKR_CRYPTOKI_NOT_INITIALIZED || !module_->instance_alive(slot());
        }
      } catch (const InstanceGone&) {
        gone = true;
      } catch (const Pkcs11Error& e) {
        if (e.rv() != CKR_CRYPTOKI_NOT_INITIALIZED) throw;
        gone = true;
      }
    }
    if (gone) {
      if (++resets > kMaxResets) throw Error(Errc::hsm_session, std::string(what) + ": the PKCS#11 module keeps being reset");
      module_->reinitialize(seen);
      continue;
    }
    if (is_session_failure(rv) && !retried) {
      log::warn("PKCS#11 {} on the key holder session failed with {}; replacing it and retrying once", what,
                rv_name(rv));
      retried = true;
      {
        std::lock_guard pool_lock(mutex_);
        ++retries_;
        ++replaced_;
      }
      if (reinit) module_->reinitialize(seen);
      continue;
    }
    if (rv != CKR_OK) throw_rv(rv, what);
    return generation;
  }
}

void SessionPool::run(const char* what, const std::function<CK_RV(CK_SESSION_HANDLE)>& op) {
  bool retried = false;
  for (int resets = 0;;) {
    std::uint64_t seen = 0;
    CK_RV rv = CKR_OK;
    bool gone = false;    // the module must be re-initialised before anything can run
    bool reinit = false;  // the attempt failed because the module instance is gone
    bool relogged = false;
    {
      Module::Call call(*module_);
      seen = call.epoch();
      CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
      try {
        sync(seen);
        s = acquire();
      } catch (const InstanceGone&) {
        gone = true;
      } catch (const Pkcs11Error& e) {
        if (e.rv() != CKR_CRYPTOKI_NOT_INITIALIZED) throw;
        gone = true;
      }
      if (!gone) {
        try {
          rv = call_op(op, s);
        } catch (...) {
          release(s, true);
          throw;
        }
        if (rv == CKR_USER_NOT_LOGGED_IN && !retried) {
          // The token forgot our login (e.g. it was re-inserted): log in again and retry once.
          try {
            login(s);
          } catch (const InstanceGone&) {
            release(s, false);
            reinit = true;
          } catch (...) {
            release(s, false);
            throw;
          }
          if (!reinit) release(s, true);
          relogged = true;
        } else {
          release(s, !is_session_failure(rv));
          if (is_session_failure(rv) && !retried) {
            // An ordinary dead session, or the whole module instance? (see module.hpp)
            reinit = rv == CKR_CRYPTOKI_NOT_INITIALIZED || !module_->instance_alive(slot());
          }
        }
      }
    }
    if (gone) {
      if (++resets > kMaxResets) throw Error(Errc::hsm_session, std::string(what) + ": the PKCS#11 module keeps being reset");
      module_->reinitialize(seen);
      continue;
    }
    if (is_session_failure(rv) && !retried) {
      if (!relogged) log::warn("PKCS#11 {} failed with {}; replacing the session and retrying once", what, rv_name(rv));
      retried = true;
      {
        std::lock_guard lock(mutex_);
        ++retries_;
      }
      if (reinit) module_->reinitialize(seen);  // outside the Call: it takes the gate exclusively
      continue;
    }
    if (rv != CKR_OK) throw_rv(rv, what);
    return;
  }
}

void SessionPool::close_all_sessions_for_test() {
  Module::Call call(*module_);
  fn()->C_CloseAllSessions(slot());
}

PoolStats SessionPool::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats out;
  out.open_sessions = open_;
  out.idle_sessions = static_cast<unsigned>(idle_.size());
  out.sessions_replaced = replaced_;
  out.retries = retries_;
  out.recoveries = recoveries_;
  out.module_reinitializations = module_->reinitializations();
  return out;
}

}  // namespace sigil::hsm
