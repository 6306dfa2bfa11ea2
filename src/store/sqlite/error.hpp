// SQLite result codes translated once into sigil::Error (internal to the sqlite backend).
#pragma once

#include <sqlite3.h>

#include <string_view>

#include "sigil/common/error.hpp"

namespace sigil::store::sqlite {

// The project error code for an (extended) SQLite result code.
Errc errc_for(int extended_rc) noexcept;

// Throws the translated Error. `what` says what was being done (SQL text is fine: parameters are
// bound, never spliced, so it holds no secrets); the library's message becomes internal detail.
[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view what);

}  // namespace sigil::store::sqlite
