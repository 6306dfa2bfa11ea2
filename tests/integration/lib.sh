# Shared helpers for the shell integration tests (sourced). Each test gets its own temp dir,
# its own SoftHSM2 token (via sigilctl init) and an ephemeral port: nothing depends on machine state.
set -uo pipefail

PASSED=0
FAILED=0
T="$(mktemp -d -t sigil-it.XXXXXX)"
SIGILD_PID=""

cleanup() {
  if [ -n "$SIGILD_PID" ] && kill -0 "$SIGILD_PID" 2>/dev/null; then kill -9 "$SIGILD_PID" 2>/dev/null; fi
  [ -n "${SIGIL_KEEP_TEST_DIRS:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() {  # check "description" command...
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# init_instance DIR: a fresh instance with port 0, a port file and the debug endpoints on.
# Under tests/support/with_postgres.sh (SIGIL_TEST_POSTGRES set) the instance's store and audit
# log live in that PostgreSQL cluster instead of a SQLite file.
init_instance() {
  local dir="$1" store=()
  [ -n "${SIGIL_TEST_POSTGRES:-}" ] && store=(--postgres-conninfo-env SIGIL_TEST_POSTGRES)
  "$SIGILCTL" init --dir "$dir" --template "$SRC/config/sigil.example.toml" "${store[@]}" >"$dir.init.log" 2>&1 || {
    cat "$dir.init.log"; return 1; }
  sed -i -e 's/^port = 8443.*/port = 0/' \
         -e 's|^# port_file = .*|port_file = "run/sigil.port"|' \
         -e 's/^debug_endpoints = false.*/debug_endpoints = true/' \
         -e 's/^shutdown_grace_ms = .*/shutdown_grace_ms = 5000/' "$dir/sigil.toml"
  mkdir -p "$dir/run"
}

# start_sigild DIR: starts the daemon, waits for its port file, sets PORT and BASE.
start_sigild() {
  local dir="$1"
  rm -f "$dir/run/sigil.port"
  "$SIGILD" --config "$dir/sigil.toml" >"$dir/sigild.log" 2>&1 &
  SIGILD_PID=$!
  for _ in $(seq 1 200); do
    [ -s "$dir/run/sigil.port" ] && break
    kill -0 "$SIGILD_PID" 2>/dev/null || { echo "sigild died:"; cat "$dir/sigild.log"; return 1; }
    sleep 0.05
  done
  PORT="$(cat "$dir/run/sigil.port")"
  BASE="https://127.0.0.1:$PORT"
  CURL=(curl -sS --max-time 20 --cacert "$dir/pki/root-ca.pem")
}

# restart_sigild DIR: SIGTERM (graceful), wait, start again (new PORT and BASE): config changes apply.
restart_sigild() {
  kill "$SIGILD_PID"; wait "$SIGILD_PID" 2>/dev/null
  start_sigild "$1"
}

# validate_strict TOOL ARGS...: ../shared/validators/TOOL --strict ARGS. The validator reads a definite
# length whose last header byte is 0x80 (128, 384, ...) as BER indefinite length and WARNs; lengths of
# structures holding ECDSA signatures vary run to run, so it hits at random. Our DER writer cannot
# produce indefinite lengths, so when --strict fails on that WARN alone, the verdict without --strict
# decides (tests/support/validator_pki.hpp does the same).
validate_strict() {
  local tool="$1"; shift
  local out
  out="$("$SRC/../shared/validators/$tool" --strict "$@" 2>&1)" && return 0
  if ! grep -E '^(FAIL|WARN)' <<<"$out" | grep -vq 'uses BER indefinite-length encoding' &&
     grep -q 'uses BER indefinite-length encoding' <<<"$out"; then
    "$SRC/../shared/validators/$tool" --quiet "$@"
    return $?
  fi
  echo "$out" | tail -n 3
  return 1
}

# start_webhook_receiver: a loopback HTTP server that records each POST body as one line of
# $T/hooks.log and its Sigil-Signature header ("-" if none) as the same line of $T/hooks.sig, and
# answers 204; sets HOOK to its base URL (".../hooks/"); stopped with the test. With PORT: on that
# port (a receiver started again after it was killed).
start_webhook_receiver() {
  rm -f "$T/hook.port"
  python3 - "$T/hook.port" "$T/hooks.log" "$T/hooks.sig" "${1:-0}" <<'PY' &
import http.server, sys
port_file, log, sig, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(sig, 'a') as f: f.write(self.headers.get('Sigil-Signature', '-') + '\n')
        with open(log, 'ab') as f: f.write(body + b'\n')
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', port), H)
open(port_file, 'w').write(str(s.server_port))
s.serve_forever()
PY
  HOOK_PID=$!
  trap 'kill $HOOK_PID 2>/dev/null; cleanup' EXIT
  for _ in $(seq 1 100); do [ -s "$T/hook.port" ] && break; sleep 0.05; done
  HOOK="http://127.0.0.1:$(cat "$T/hook.port")/hooks/"
}
# hooks_match EXPR: true once a received notification `h` (a dict) satisfies the Python EXPR; polls
# for up to 10 s (delivery is asynchronous).
hooks_match() {
  local _
  for _ in $(seq 1 100); do
    python3 - "$T/hooks.log" "$1" <<'PY' && return 0
import json, os, sys
log, expr = sys.argv[1], sys.argv[2]
hooks = [json.loads(l) for l in open(log)] if os.path.exists(log) else []
sys.exit(0 if any(eval(expr, {}, {'h': h}) for h in hooks) else 1)
PY
    sleep 0.1
  done
  echo "no notification with $1 in: $(cat "$T/hooks.log" 2>/dev/null)"
  return 1
}
