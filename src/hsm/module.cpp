#include "hsm/module.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <map>
#include <mutex>

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

void throw_rv(CK_RV rv, const std::string& what) { throw Error(errc_for(rv), what + " failed: " + rv_name(rv)); }

bool is_session_failure(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_USER_NOT_LOGGED_IN ||
         rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT;
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
  if (owns_init_) fn_->C_Finalize(nullptr);
  ::dlclose(handle_);
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
