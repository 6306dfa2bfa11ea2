#include "ossl/error.hpp"

#include <openssl/err.h>

namespace sigil::ossl {

std::string drain_errors() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  char buf[256];
  // With the attached text when there is one: TS and OCSP verification put the X.509 verify
  // reason there ("Verify error:unable to get local issuer certificate").
  while (const unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') out += std::string(" (") + data + ")";
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

void fail(const std::string& what, Errc code) { throw Error(code, what + ": " + drain_errors()); }

}  // namespace sigil::ossl
