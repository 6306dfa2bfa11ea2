// Opening the configured token the same way everywhere (sigild, sigilctl --local, doctor).
#pragma once

#include <memory>
#include <optional>

#include "sigil/audit/audit_log.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/config/config.hpp"
#include "sigil/hsm/token.hpp"

namespace sigil::bootstrap {

// Exports SOFTHSM2_CONF when hsm.softhsm_conf is set: SoftHSM2 reads it at C_Initialize, so call
// this before the module is first loaded.
void export_softhsm_conf(const config::HsmConfig& hsm);

// Exports SOFTHSM2_CONF, resolves the PIN and opens the token; `pool_size` overrides hsm.pool_size.
std::unique_ptr<hsm::Token> open_token(const config::HsmConfig& hsm, std::optional<unsigned> pool_size = {});

// The audit log over the store with its checkpoint key from the token. Members in this order so
// the log (which uses the signer) is destroyed first.
struct AuditRuntime {
  std::unique_ptr<KeySigner> signer;
  Bytes public_key_der;  // the audit key's SPKI: what checkpoints verify with
  std::unique_ptr<audit::AuditLog> log;
};

// Throws Error(audit_unavailable, public) naming the label when the audit key is not in the token
// (an instance initialised before the audit trail existed: run `sigilctl init` again), or when
// the trail cannot be opened.
AuditRuntime open_audit(const config::AuditConfig& config, store::Database& db, hsm::Token& token, const Clock& clock);

}  // namespace sigil::bootstrap
