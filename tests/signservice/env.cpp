#include "softhsm_env.hpp"

// One SoftHSM2 token per test binary run.
static const auto* const kSoftHsm = ::testing::AddGlobalTestEnvironment(new sigil::test::SoftHsmEnvironment);
