#include "error.hpp"

#include <string>

namespace sigil::store::sqlite {

Errc errc_for(int extended_rc) noexcept {
  switch (extended_rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Errc::already_exists;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Errc::store_conflict;
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
      // The caller passed a value the schema forbids (repositories validate first, so this is
      // mostly a bug); it is not the store's fault, so not a 5xx.
      return Errc::invalid_argument;
    default:
      break;
  }
  switch (extended_rc & 0xff) {
    // BUSY/LOCKED reach us only after the busy timeout has run out: the store is overloaded or a
    // writer holds the lock too long. Retryable, so 503.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    // The file is missing, unreadable, full, read-only or not a database: an operator must act.
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return Errc::store_unavailable;
    case SQLITE_CONSTRAINT:
      return Errc::store_conflict;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return Errc::invalid_argument;
    default:
      return Errc::internal;  // SQLITE_ERROR (bad SQL, missing table), MISUSE, ...: our bug
  }
}

void throw_error(sqlite3* db, int rc, std::string_view what) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  // sqlite3_extended_errcode reports the connection's last error; prefer it when it refines rc.
  const int code = (extended & 0xff) == (rc & 0xff) ? extended : rc;
  std::string detail = "sqlite: ";
  detail += what.substr(0, 300);
  detail += ": ";
  detail += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  detail += " (";
  detail += sqlite3_errstr(code);
  detail += ", code " + std::to_string(code) + ")";
  throw Error(errc_for(code), std::move(detail));
}

}  // namespace sigil::store::sqlite
