// One SoftHSM2 token, then the validator PKI with its TSA/OCSP, keys and certificates on it. The
// environment and the test-only network sources (HttpTimestamper, PkiRevocationSource) are the CMS
// tests' (tests/cms/cms_env.hpp), reused as the brief asks.
#include "cms/cms_env.hpp"

static const auto* const kSoftHsm = ::testing::AddGlobalTestEnvironment(new sigil::test::SoftHsmEnvironment);
static const auto* const kCms = ::testing::AddGlobalTestEnvironment(new sigil::test::CmsEnvironment);
