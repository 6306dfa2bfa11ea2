#include "cms_env.hpp"

// One SoftHSM2 token, then the PKI and keys on it (environments tear down in reverse order).
static const auto* const kSoftHsm = ::testing::AddGlobalTestEnvironment(new sigil::test::SoftHsmEnvironment);
static const auto* const kCms = ::testing::AddGlobalTestEnvironment(new sigil::test::CmsEnvironment);
