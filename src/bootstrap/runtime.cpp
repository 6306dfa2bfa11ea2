#include "sigil/bootstrap/runtime.hpp"

#include <cstdlib>

#include "sigil/common/error.hpp"

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
  to.session_key_copies = c.session_key_copies;
  to.session_key_recheck = c.session_key_recheck;
  return hsm::Token::open(std::move(to));
}

AuditRuntime open_audit(const config::AuditConfig& c, store::Database& db, hsm::Token& token, const Clock& clock) {
  if (!token.find_key(c.key_label)) {
    throw Error(Errc::audit_unavailable,
                "the audit key '" + c.key_label + "' is not in token '" + token.label() +
                    "': run `sigilctl init` (it adds the audit key to an existing instance) or set audit.key_label",
                true);
  }
  AuditRuntime rt;
  rt.signer = token.signer(c.key_label);
  rt.public_key_der = rt.signer->public_key_der();
  audit::AuditOptions o;
  o.checkpoint_every_records = c.checkpoint_every_records;
  o.checkpoint_every = c.checkpoint_interval;
  o.group_commit_max = c.group_commit_max;
  o.group_commit_wait = c.group_commit_wait;
  o.key_label = c.key_label;
  rt.log = std::make_unique<audit::AuditLog>(db, clock, rt.signer.get(), o);
  return rt;
}

}  // namespace sigil::bootstrap
