#!/usr/bin/env bash
# usage: with_postgres.sh COMMAND [ARGS...]
# Runs COMMAND against a throwaway PostgreSQL cluster (Debian's postgresql package): initdb in a
# temp dir, listening only on a Unix socket in that dir (no port to collide with; mode 0700, so other
# local users cannot reach the trust-auth server: only its owner, and root), trust auth for
# the local superuser "sigil", fsync off (a test cluster). COMMAND gets SIGIL_TEST_POSTGRES, a libpq
# conninfo; each test fixture makes its own schema there (tests/support/test_store.hpp).
# The cluster is stopped and removed when COMMAND ends, whatever its exit status.
set -euo pipefail
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PGBIN/initdb" ] || { echo "with_postgres: PostgreSQL server not installed (run scripts/install-deps)" >&2; exit 1; }
D="$(mktemp -d -t sigil-pg.XXXXXX)"
chmod 755 "$D"
as_pg() {  # initdb and the server refuse to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$D"
stop() {
  as_pg "$PGBIN/pg_ctl" -D "$D/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap stop EXIT
as_pg "$PGBIN/initdb" -D "$D/data" -A trust -U sigil -E UTF8 --no-sync >"$D/initdb.log" 2>&1 ||
  { cat "$D/initdb.log" >&2; exit 1; }
as_pg "$PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$D' -c unix_socket_permissions=0700 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$D/server.log" >&2; exit 1; }
export SIGIL_TEST_POSTGRES="host=$D user=sigil dbname=postgres"
"$@"
