/* A plugin built for an ABI this sigild does not know: the loader must refuse it (tests only). */
#include "sigil/plugin/otp_plugin.h"

static const sigil_otp_plugin_v1 plugin = {99u, "bad-abi", NULL, NULL, NULL, 0, NULL, 0};

SIGIL_OTP_PLUGIN_EXPORT const sigil_otp_plugin_v1 *sigil_otp_plugin_entry_v1(void) { return &plugin; }
