// Hooks for recovery tests only.
#pragma once
#include "sigil/hsm/token.hpp"
namespace sigil::hsm {
void close_all_sessions_for_test(Token& token);
}
