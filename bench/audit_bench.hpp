// The audit append benchmarks (audit_bench.cpp), registered from sigil_bench's main.
#pragma once

#include <filesystem>

#include "sigil/hsm/token.hpp"

namespace sigil::bench {

// Creates the checkpoint key in `token` and one SQLite database per case under `dir`.
void register_audit_benchmarks(hsm::Token& token, const std::filesystem::path& dir);
// Closes the logs (final checkpoints); call before the token goes.
void close_audit_benchmarks();

}  // namespace sigil::bench
