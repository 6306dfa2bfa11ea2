#include "ossl/error.hpp"

#include <openssl/err.h>

namespace sigil::ossl {

std::string drain_errors() {
  std::string out;
  unsigned long e = 0;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

void fail(const std::string& what, Errc code) { throw Error(code, what + ": " + drain_errors()); }

}  // namespace sigil::ossl
