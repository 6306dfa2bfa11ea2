#include "hsm/module.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "hsm/test_hooks.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::hsm {
namespace {

struct RvEntry {
  CK_RV rv;
  const char* name;
};

constexpr RvEntry kRvNames[] = {
    {CKR_OK, "CKR_OK"},
    {CKR_CANCEL, "CKR_CANCEL"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_ACTION_PROHIBITED, "CKR_ACTION_PROHIBITED"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_INVALID, "CKR_PIN_INVALID"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
    {CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
    {CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
};

struct MechEntry {
  CK_MECHANISM_TYPE m;
  const char* name;
};

constexpr MechEntry kMechNames[] = {
    {CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN"},
    {CKM_RSA_PKCS, "CKM_RSA_PKCS"},
    {CKM_RSA_PKCS_PSS, "CKM_RSA_PKCS_PSS"},
    {CKM_SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS"},
    {CKM_SHA256_RSA_PKCS_PSS, "CKM_SHA256_RSA_PKCS_PSS"},
    {CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"},
    {CKM_ECDSA, "CKM_ECDSA"},
    {CKM_ECDSA_SHA256, "CKM_ECDSA_SHA256"},
    {CKM_SHA256, "CKM_SHA256"},
    {CKM_SHA384, "CKM_SHA384"},
    {CKM_SHA512, "CKM_SHA512"},
};

Errc errc_for(CK_RV rv) {
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
      return Errc::hsm_pin_incorrect;
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
      return Errc::hsm_pin_locked;
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_DATA_LEN_RANGE:
      return Errc::hsm_mechanism_unsupported;
    case CKR_KEY_HANDLE_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
      return Errc::hsm_key_not_found;
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_COUNT:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
      return Errc::hsm_session;
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
      return Errc::hsm_device;
    case CKR_SLOT_ID_INVALID:
      return Errc::hsm_token_not_found;
    default:
      return Errc::hsm_general;
  }
}

std::mutex g_modules_mutex;
// PKCS#11 state is process-global; the registry only shares what the process already shares.
std::map<std::filesystem::path, std::weak_ptr<Module>> g_modules;

}  // namespace

std::string rv_name(CK_RV rv) {
  for (const auto& e : kRvNames) {
    if (e.rv == rv) return e.name;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR_0x%08lx", static_cast<unsigned long>(rv));
  return buf;
}

void throw_rv(CK_RV rv, const std::string& what) {
  throw Pkcs11Error(errc_for(rv), what + " failed: " + rv_name(rv), rv);
}

bool is_session_failure(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_USER_NOT_LOGGED_IN ||
         rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

void CallGate::lock_shared() {
  auto s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & kWriter) == 0) {
      // Fails (and retries) if a writer set kWriter meanwhile: the whole word is compared.
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
      continue;
    }
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return (state_.load(std::memory_order_relaxed) & kWriter) == 0; });
    s = state_.load(std::memory_order_relaxed);
  }
}

void CallGate::unlock_shared() {
  if (state_.fetch_sub(1, std::memory_order_release) == (kWriter | 1)) {
    // The last reader a writer waits for. Notified under the mutex: the writer either waits
    // already or has not yet looked at the count (it looks holding the mutex).
    std::lock_guard lock(mutex_);
    cv_.notify_all();
  }
}

void CallGate::lock() {
  std::unique_lock lock(mutex_);
  ++writers_;
  state_.fetch_or(kWriter, std::memory_order_relaxed);  // no new reader from now on
  cv_.wait(lock, [&] { return !writer_ && (state_.load(std::memory_order_acquire) & ~kWriter) == 0; });
  writer_ = true;
}

void CallGate::unlock() {
  {
    std::lock_guard lock(mutex_);
    writer_ = false;
    if (--writers_ == 0) state_.fetch_and(~kWriter, std::memory_order_release);
  }
  cv_.notify_all();
}

std::string mechanism_name(CK_MECHANISM_TYPE m) {
  for (const auto& e : kMechNames) {
    if (e.m == m) return e.name;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08lx", static_cast<unsigned long>(m));
  return buf;
}

std::string trim_padded(const unsigned char* data, std::size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::shared_ptr<Module> Module::load(const std::filesystem::path& path) {
  std::lock_guard lock(g_modules_mutex);
  if (auto existing = g_modules[path].lock()) return existing;

  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    throw Error(Errc::hsm_module_load, "cannot load PKCS#11 module '" + path.string() + "': " + (why ? why : "?") +
                                           " (is the path right and the package installed?)");
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST* fn = nullptr;
  if (get_list == nullptr || get_list(&fn) != CKR_OK || fn == nullptr) {
    ::dlclose(handle);
    throw Error(Errc::hsm_module_load, "'" + path.string() + "' is not a PKCS#11 module (no C_GetFunctionList)");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV rv = fn->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(handle);
    throw Error(Errc::hsm_module_load, "C_Initialize of '" + path.string() + "' failed: " + rv_name(rv) +
                                           " (for SoftHSM2: does SOFTHSM2_CONF point at a readable config and "
                                           "token directory?)");
  }
  std::shared_ptr<Module> module(new Module(path, handle, fn, rv == CKR_OK));
  g_modules[path] = module;
  return module;
}

Module::Module(std::filesystem::path path, void* handle, CK_FUNCTION_LIST* fn, bool owns_init)
    : path_(std::move(path)), handle_(handle), fn_(fn), owns_init_(owns_init) {}

Module::~Module() {
  if (owns_init_) {
    fn_->C_Finalize(nullptr);  // closes the sentinel's session with every other
  } else if (sentinel_session_ != CK_INVALID_HANDLE && sentinel_epoch_ == epoch() && instance_alive(CK_SLOT_ID{})) {
    fn_->C_CloseSession(sentinel_session_);
  }
  ::dlclose(handle_);
}

void Module::reinitialize(std::uint64_t seen_epoch) {
  std::lock_guard gate(gate_);  // exclusive: none of our calls is inside the module meanwhile
  if (epoch_.load(std::memory_order_acquire) != seen_epoch) return;  // another thread did it
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV rv = fn_->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    log::error("PKCS#11 module '{}' was finalized and C_Initialize failed with {}; will try again on the next "
               "request",
               path_.string(), rv_name(rv));
    throw_rv(rv, "C_Initialize (re-initialising " + path_.string() + ")");
  }
  if (rv == CKR_OK) {
    owns_init_ = true;
    log::warn("PKCS#11 module '{}' was finalized behind our back: re-initialised it; dropping every session and "
              "handle",
              path_.string());
  } else {
    log::warn("PKCS#11 module '{}' has a new instance (finalized and re-initialised elsewhere, or every session "
              "closed); dropping every session and handle",
              path_.string());
  }
  {
    // The old sentinel died with its instance; its handles may name somebody else's objects now.
    std::lock_guard lock(sentinel_mutex_);
    sentinel_session_ = CK_INVALID_HANDLE;
    sentinel_object_ = CK_INVALID_HANDLE;
  }
  reinits_.fetch_add(1, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

bool Module::instance_alive(CK_SLOT_ID slot) noexcept {
  std::lock_guard lock(sentinel_mutex_);
  if (sentinel_unsupported_) return true;
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  if (sentinel_session_ == CK_INVALID_HANDLE || sentinel_epoch_ != epoch) {
    // First call of this epoch: plant the sentinel. A public session object in a read-only public
    // session: no login needed, invisible to key searches (CKO_DATA, CKA_TOKEN=false).
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    const CK_RV rv = fn_->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s);
    // The slot was found under this epoch: if it vanished, so did the instance (or the token).
    if (rv == CKR_CRYPTOKI_NOT_INITIALIZED || rv == CKR_SLOT_ID_INVALID) return false;
    if (rv != CKR_OK) return true;  // cannot tell; try again next time
    try {
      const Bytes nonce = random_bytes(sizeof sentinel_value_);
      std::memcpy(sentinel_value_, nonce.data(), sizeof sentinel_value_);
    } catch (...) {
      fn_->C_CloseSession(s);
      return true;
    }
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL no = CK_FALSE;
    static const char kLabel[] = "sigil instance sentinel";
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls},
                           {CKA_TOKEN, &no, sizeof no},
                           {CKA_PRIVATE, &no, sizeof no},
                           {CKA_LABEL, const_cast<char*>(kLabel), sizeof kLabel - 1},
                           {CKA_VALUE, sentinel_value_, sizeof sentinel_value_}};
    CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
    const CK_RV crv = fn_->C_CreateObject(s, tmpl, 5, &o);
    if (crv != CKR_OK) {
      fn_->C_CloseSession(s);
      if (crv == CKR_CRYPTOKI_NOT_INITIALIZED) return false;
      log::warn("PKCS#11 module '{}' refused a session data object ({}): a finalize and re-initialise by somebody "
                "else will only be noticed through failing sessions",
                path_.string(), rv_name(crv));
      sentinel_unsupported_ = true;
      return true;
    }
    sentinel_session_ = s;
    sentinel_object_ = o;
    sentinel_epoch_ = epoch;
    return true;
  }
  unsigned char value[sizeof sentinel_value_] = {};
  CK_ATTRIBUTE a{CKA_VALUE, value, sizeof value};
  const CK_RV rv = fn_->C_GetAttributeValue(sentinel_session_, sentinel_object_, &a, 1);
  if (rv == CKR_OK) return a.ulValueLen == sizeof value && std::memcmp(value, sentinel_value_, sizeof value) == 0;
  // A stale handle: invalid now, or naming some other object (wrong size or type, or sensitive).
  // Anything else (device errors) says nothing about the instance.
  return !(rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_OBJECT_HANDLE_INVALID ||
           rv == CKR_CRYPTOKI_NOT_INITIALIZED || rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
           rv == CKR_ATTRIBUTE_SENSITIVE);
}

void Module::finalize_for_test(bool initialize_again) {
  std::lock_guard gate(gate_);
  fn_->C_Finalize(nullptr);
  if (initialize_again) {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    fn_->C_Initialize(&args);
  } else {
    // SoftHSM2 2.6.1 frees its singleton in C_Finalize and the next call recreates it without a
    // lock (SoftHSM::i()): several threads' first calls after a finalize race inside SoftHSM2.
    // Whoever finalized would make the next call; make it here, between our calls (it answers
    // CKR_CRYPTOKI_NOT_INITIALIZED).
    CK_INFO info{};
    fn_->C_GetInfo(&info);
  }
}

void finalize_module_for_test(const std::filesystem::path& path, bool initialize_again) {
  std::shared_ptr<Module> module;
  {
    std::lock_guard lock(g_modules_mutex);
    module = g_modules[path].lock();
  }
  if (!module) throw Error(Errc::internal, "module '" + path.string() + "' is not loaded");
  module->finalize_for_test(initialize_again);
}

std::vector<CK_SLOT_ID> Module::slots(bool token_present) {
  CK_ULONG count = 0;
  check_rv(fn_->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, nullptr, &count), "C_GetSlotList");
  std::vector<CK_SLOT_ID> ids(count);
  check_rv(fn_->C_GetSlotList(token_present ? CK_TRUE : CK_FALSE, ids.data(), &count), "C_GetSlotList");
  ids.resize(count);
  return ids;
}

}  // namespace sigil::hsm
