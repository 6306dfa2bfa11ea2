#!/usr/bin/env bash
# sigild end to end: first-run init, TLS with the demo CA, health/readiness/metrics, the JSON
# error model, authentication, config errors, and graceful shutdown with a request in flight.
# Usage: daemon_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"

I="$T/inst"
init_instance "$I" || { fail "sigilctl init"; finish; exit 1; }
pass "sigilctl init"
ADMIN_PW="$(sed -n 's/.*store it now): //p' "$I.init.log")"
check "init printed an admin password" test -n "$ADMIN_PW"
check "PIN files are 0600" test "$(stat -c %a "$I/secrets/user.pin")" = 600
check "TLS key is 0600" test "$(stat -c %a "$I/tls/server.key")" = 600
check "TLS certificate chains to the demo root" \
  openssl verify -CAfile "$I/pki/root-ca.pem" -untrusted "$I/pki/issuing-ca.pem" "$I/tls/server.crt"
check "TSA certificate has a critical timeStamping EKU" \
  bash -c "openssl x509 -in '$I/pki/tsa.pem' -noout -ext extendedKeyUsage | grep -q 'critical' && openssl x509 -in '$I/pki/tsa.pem' -noout -ext extendedKeyUsage | grep -q 'Time Stamping'"
check "CA, TSA, OCSP, audit, demo-signer and alice keys live in the token, non-extractable" \
  bash -c "SOFTHSM2_CONF='$I/softhsm2.conf' pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label sigil --login --pin \"\$(cat '$I/secrets/user.pin')\" --list-objects --type privkey 2>/dev/null | grep -c 'never extractable' | grep -qx 7"

"$SIGILCTL" init --dir "$I" --template "$SRC/config/sigil.example.toml" >"$T/init2.log" 2>&1
check "second init changes nothing and says so" grep -q "nothing changed" "$T/init2.log"

start_sigild "$I" || { fail "sigild starts"; finish; exit 1; }
pass "sigild starts on ephemeral port $PORT"

check "/healthz over TLS, verified with the demo CA" \
  bash -c "\"\${@}\" '$BASE/healthz' | grep -q '\"status\":\"ok\"'" _ "${CURL[@]}"
check "/readyz reports store and token ready" \
  bash -c "\"\${@}\" '$BASE/readyz' | grep -q '\"token\":\"ok\"'" _ "${CURL[@]}"
check "response carries X-Request-Id" \
  bash -c "\"\${@}\" -D - -o /dev/null '$BASE/healthz' | grep -qi '^x-request-id: '" _ "${CURL[@]}"
check "/metrics is Prometheus text with request counters" \
  bash -c "\"\${@}\" '$BASE/metrics' | grep -q '^sigil_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}'" _ "${CURL[@]}"
check "unknown route: 404 with the JSON error model" \
  bash -c "\"\${@}\" -w '%{http_code}' '$BASE/nope' | grep -q '\"error\":\"not_found\".*404'" _ "${CURL[@]}"
check "authenticated route without credentials: 401 JSON" \
  bash -c "\"\${@}\" -w '%{http_code}' '$BASE/api/v1/whoami' | grep -q '\"error_description\".*401$'" _ "${CURL[@]}"
check "admin with the printed password: 200" \
  bash -c "\"\${@}\" -u 'admin:$ADMIN_PW' '$BASE/api/v1/whoami' | grep -q '\"roles\":\\[\"admin\"\\]'" _ "${CURL[@]}"
check "wrong password: 401" \
  bash -c "\"\${@}\" -o /dev/null -w '%{http_code}' -u 'admin:wrong' '$BASE/api/v1/whoami' | grep -qx 401" _ "${CURL[@]}"
check "oversized body: 413 JSON before the body is read" \
  bash -c "head -c 70000000 /dev/zero | \"\${@}\" -o '$T/413.json' -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- '$BASE/api/v1/whoami' | grep -qx 413 && grep -q payload '$T/413.json' || grep -q 'too large' '$T/413.json'" _ "${CURL[@]}"
check "plain HTTP to the TLS port is refused" \
  bash -c "! curl -s --max-time 5 'http://127.0.0.1:$PORT/healthz' | grep -q ok"

# Graceful shutdown: a request in flight completes, then the daemon exits 0 and stops listening.
"${CURL[@]}" -o "$T/slow.json" -w '%{http_code}' "$BASE/debug/sleep?ms=1500" >"$T/slow.code" 2>&1 &
SLOW=$!
sleep 0.5
kill -TERM "$SIGILD_PID"
wait "$SLOW"
check "in-flight request completes during shutdown" grep -qx 200 "$T/slow.code"
wait "$SIGILD_PID"; rc=$?
SIGILD_PID=""
check "sigild exits 0 after SIGTERM" test "$rc" -eq 0
check "no longer listening" bash -c "! curl -s --max-time 3 --cacert '$I/pki/root-ca.pem' 'https://127.0.0.1:$PORT/healthz'"
check "log lines carry the request id" grep -qE '\[[A-Za-z0-9_-]{8,}\] GET /healthz 200' "$I/sigild.log"
check "no PIN in the log" bash -c "! grep -qF \"\$(cat '$I/secrets/user.pin')\" '$I/sigild.log'"
check "no admin password in the log" bash -c "! grep -qF '$ADMIN_PW' '$I/sigild.log'"

# Configuration errors stop startup with the key and the line.
cp "$I/sigil.toml" "$T/bad.toml"
sed -i 's/^listen_address = /listen_adress = /' "$T/bad.toml"
"$SIGILD" --config "$T/bad.toml" >"$T/bad.out" 2>&1; rc=$?
check "unknown config key: non-zero exit" test "$rc" -ne 0
check "unknown config key: message names key and line" grep -qE "bad.toml:[0-9]+: .*listen_adress" "$T/bad.out"
"$SIGILD" --config "$T/missing.toml" >"$T/missing.out" 2>&1; rc=$?
check "missing config file: non-zero exit with the path" bash -c "test $rc -ne 0 && grep -q missing.toml '$T/missing.out'"
sed -i 's/^user_pin = .*/user_pin = { file = "secrets\/nope.pin" }/' "$I/sigil.toml"
"$SIGILD" --config "$I/sigil.toml" >"$T/pin.out" 2>&1; rc=$?
check "missing PIN file: non-zero exit naming the file" bash -c "test $rc -ne 0 && grep -q nope.pin '$T/pin.out'"

finish
