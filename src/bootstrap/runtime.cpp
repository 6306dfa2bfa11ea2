#include "sigil/bootstrap/runtime.hpp"

#include <cstdlib>

namespace sigil::bootstrap {

void export_softhsm_conf(const config::HsmConfig& hsm) {
  if (!hsm.softhsm_conf.empty()) ::setenv("SOFTHSM2_CONF", hsm.softhsm_conf.c_str(), 1);
}

std::unique_ptr<hsm::Token> open_token(const config::HsmConfig& c, std::optional<unsigned> pool_size) {
  export_softhsm_conf(c);
  hsm::TokenOptions to;
  to.module = c.module;
  to.label = c.token_label;
  to.serial = c.token_serial;
  to.user_pin = c.user_pin.resolve();
  to.pool_size = pool_size.value_or(c.pool_size);
  to.cache_session_keys = c.cache_session_keys;
  to.session_key_recheck = c.session_key_recheck;
  return hsm::Token::open(std::move(to));
}

}  // namespace sigil::bootstrap
