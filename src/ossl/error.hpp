// OpenSSL's error queue translated once into sigil::Error.
#pragma once

#include <string>

#include "sigil/common/error.hpp"

namespace sigil::ossl {

// Drains the thread's OpenSSL error queue into one line (internal detail).
std::string drain_errors();

// Throws Error(code, what + ": " + queued OpenSSL errors).
[[noreturn]] void fail(const std::string& what, Errc code = Errc::crypto);

// Throws via fail() when `ok` is false (for OpenSSL's 1 = success convention use `check(rc == 1, ...)`).
inline void check(bool ok, const char* what, Errc code = Errc::crypto) {
  if (!ok) fail(what, code);
}

}  // namespace sigil::ossl
