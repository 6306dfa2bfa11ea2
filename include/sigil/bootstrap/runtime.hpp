// Opening the configured token the same way everywhere (sigild, sigilctl --local, doctor).
#pragma once

#include <memory>
#include <optional>

#include "sigil/config/config.hpp"
#include "sigil/hsm/token.hpp"

namespace sigil::bootstrap {

// Exports SOFTHSM2_CONF when hsm.softhsm_conf is set: SoftHSM2 reads it at C_Initialize, so call
// this before the module is first loaded.
void export_softhsm_conf(const config::HsmConfig& hsm);

// Exports SOFTHSM2_CONF, resolves the PIN and opens the token; `pool_size` overrides hsm.pool_size.
std::unique_ptr<hsm::Token> open_token(const config::HsmConfig& hsm, std::optional<unsigned> pool_size = {});

}  // namespace sigil::bootstrap
