// A loaded PKCS#11 module: dlopen, C_GetFunctionList, C_Initialize with OS locking.
// PKCS#11 state is per process (C_Initialize once), so modules are shared by path.
#pragma once

#include <p11-kit/pkcs11.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sigil/common/error.hpp"

namespace sigil::hsm {

// Stable name of a return value ("CKR_PIN_INCORRECT"), or hex.
std::string rv_name(CK_RV rv);
// Translates a CK_RV into sigil::Error once, at the boundary.
[[noreturn]] void throw_rv(CK_RV rv, const std::string& what);
inline void check_rv(CK_RV rv, const char* what) {
  if (rv != CKR_OK) throw_rv(rv, what);
}
// Sessions that fail with these are discarded and the operation retried once.
bool is_session_failure(CK_RV rv);
std::string mechanism_name(CK_MECHANISM_TYPE m);
// Fixed-width, space-padded PKCS#11 text fields.
std::string trim_padded(const unsigned char* data, std::size_t size);

class Module {
 public:
  static std::shared_ptr<Module> load(const std::filesystem::path& path);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CK_FUNCTION_LIST* fn() const { return fn_; }
  const std::filesystem::path& path() const { return path_; }
  std::vector<CK_SLOT_ID> slots(bool token_present);

 private:
  Module(std::filesystem::path path, void* handle, CK_FUNCTION_LIST* fn, bool owns_init);
  std::filesystem::path path_;
  void* handle_;
  CK_FUNCTION_LIST* fn_;
  bool owns_init_;
};

}  // namespace sigil::hsm
