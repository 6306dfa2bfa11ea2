#!/usr/bin/env bash
# The audit trail end to end (issue 8): init makes the audit key and certificate; sigild records
# startup, logins (failed ones too), admin changes and shutdown; sigilctl lists, exports and
# verifies online, locally and offline; tampering with an export (modify, delete, truncate,
# reorder) is found at the right position; kill -9 under load loses no acknowledged operation.
# Usage: audit_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"

I="$T/inst"
init_instance "$I" || { fail "sigilctl init"; finish; exit 1; }
ADMIN_PW="$(sed -n 's/.*store it now): //p' "$I.init.log")"
sed -i 's/^checkpoint_every_records = .*/checkpoint_every_records = 10/' "$I/sigil.toml"
L=("$SIGILCTL" --config "$I/sigil.toml" --local)
C=("$SIGILCTL" --config "$I/sigil.toml")

expect_exit() {  # expect_exit CODE description command...
  local code="$1" what="$2"; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" -eq "$code" ]; then pass "$what (exit $rc)"; else fail "$what: exit $rc, wanted $code: $(cat "$T/out" "$T/err")"; fi
}

check "audit certificate chains to the demo root" \
  openssl verify -CAfile "$I/pki/root-ca.pem" -untrusted "$I/pki/issuing-ca.pem" "$I/pki/audit.pem"
check "audit key is in the token, recorded in the store" bash -c "\"\$@\" key show audit-key | grep -q 'Sigil Demo Audit Log'" _ "${L[@]}"
expect_exit 2 "the audit key cannot be deleted" "${L[@]}" key delete audit-key

start_sigild "$I" || { fail "sigild starts"; finish; exit 1; }
pass "sigild starts"

# A failed login, then an admin API key and an auditor with an API key (Basic is slow: Argon2id).
code="$("${CURL[@]}" -o /dev/null -w '%{http_code}' -u 'admin:wrong password' "$BASE/api/v1/whoami")"
check "failed login answers 401" test "$code" = 401
ADMIN_KEY="$("${CURL[@]}" -u "admin:$ADMIN_PW" -H 'Content-Type: application/json' -d '{"label":"audit-test"}' \
  "$BASE/api/admin/v1/users/admin/apikeys" | jq -r .key)"
check "admin API key created" test -n "$ADMIN_KEY" -a "$ADMIN_KEY" != null
A=(-H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json')
"${CURL[@]}" "${A[@]}" -d '{"username":"aud","roles":["auditor"]}' "$BASE/api/admin/v1/users" >/dev/null
AUD_KEY="$("${CURL[@]}" "${A[@]}" -d '{}' "$BASE/api/admin/v1/users/aud/apikeys" | jq -r .key)"
check "auditor API key created" test -n "$AUD_KEY" -a "$AUD_KEY" != null
code="$("${CURL[@]}" "${A[@]}" -o /dev/null -w '%{http_code}' "$BASE/api/admin/v1/audit/records")"
check "an administrator is not an auditor: 403" test "$code" = 403

# Five wrong passwords lock an account (auth.max_failed_logins = 5): the fifth failure is a lockout.
"${CURL[@]}" "${A[@]}" -d '{"username":"lockme","roles":["signer"],"password":"a long enough password"}' \
  "$BASE/api/admin/v1/users" >/dev/null
for _ in 1 2 3 4 5; do "${CURL[@]}" -o /dev/null -u 'lockme:not the password' "$BASE/api/v1/whoami"; done

export SIGIL_API_KEY="$AUD_KEY"
"${C[@]}" --json audit list --limit 1000 >"$T/list.json"
check "the lockout is recorded once, with its end" \
  bash -c "test \"\$(jq '[.records[] | select(.type==\"auth.lockout\" and .principal==\"lockme\" and .details.locked_until != null)] | length' '$T/list.json')\" = 1"
check "startup and config recorded first" \
  bash -c "jq -e '[.records[].type] | index(\"config.loaded\") < index(\"system.startup\")' '$T/list.json' >/dev/null"
check "the failed login is recorded with its client address, without the password" \
  bash -c "jq -e '.records[] | select(.type==\"auth.failure\" and .principal==\"admin\" and .details.reason==\"bad_credentials\" and .client_address==\"127.0.0.1\")' '$T/list.json' >/dev/null && ! grep -q 'wrong password' '$T/list.json'"
check "admin changes are recorded with the acting principal" \
  bash -c "jq -e '.records[] | select(.type==\"admin.user.create\" and .principal==\"admin\" and .details.username==\"aud\")' '$T/list.json' >/dev/null"
check "no API key secret in the trail" bash -c "! grep -qF '${ADMIN_KEY:12}' '$T/list.json' && ! grep -qF '${AUD_KEY:12}' '$T/list.json'"
check "list filters by type" bash -c "\"\$@\" audit list --type 'admin.*' | grep -q admin.apikey.create && ! \"\$@\" audit list --type 'admin.*' | grep -q auth.failure" _ "${C[@]}"
check "show names the hashes" bash -c "\"\$@\" audit show 1 | grep -q prev_hash" _ "${C[@]}"
expect_exit 0 "online verify" "${C[@]}" audit verify
check "online verify says OK" grep -q "audit chain OK" "$T/out"
check "export over the API" "${C[@]}" audit export -o "$T/online.jsonl"
expect_exit 0 "offline verify of the online export" "${C[@]}" audit verify --file "$T/online.jsonl" --cert "$I/pki/audit.pem"

kill -TERM "$SIGILD_PID"; wait "$SIGILD_PID"; rc=$?; SIGILD_PID=""
check "sigild stops with exit 0" test "$rc" -eq 0

# After shutdown the final checkpoint covers everything: the local export is fully signed.
unset SIGIL_API_KEY
check "local export" "${L[@]}" audit export -o "$T/export.jsonl"
check "shutdown recorded before the final checkpoint" \
  bash -c "grep '\"kind\":\"record\"' '$T/export.jsonl' | jq -r .type | grep -q system.shutdown"
expect_exit 0 "offline verify: no server, no token" env -u SOFTHSM2_CONF "$SIGILCTL" audit verify --file "$T/export.jsonl" --cert "$I/pki/audit.pem"
expect_exit 2 "offline verify needs the certificate" "$SIGILCTL" audit verify --file "$T/export.jsonl"

# tamper MODE: writes $T/bad.jsonl from the export. Records are the first lines, seq n on line n.
tamper() {
  python3 - "$T/export.jsonl" "$T/bad.jsonl" "$1" <<'PY'
import json, sys
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(src).read().splitlines()
recs = [l for l in lines if '"kind":"record"' in l]
rest = [l for l in lines if '"kind":"record"' not in l]
if mode == "modify":      # record 4: change who did it
    r = json.loads(recs[3]); r["principal"] = "mallory"; recs[3] = json.dumps(r, separators=(",", ":"))
elif mode == "delete":    # record 6 gone
    del recs[5]
elif mode == "truncate":  # the last 3 records gone
    recs = recs[:-3]
elif mode == "reorder":   # records 3 and 4 swapped
    recs[2], recs[3] = recs[3], recs[2]
open(dst, "w").write("\n".join(recs + rest) + "\n")
PY
}
NREC="$(grep -c '"kind":"record"' "$T/export.jsonl")"
V=("$SIGILCTL" audit verify --file "$T/bad.jsonl" --cert "$I/pki/audit.pem")
tamper modify;   expect_exit 71 "modified record found" "${V[@]}"; check "... at position 4" grep -q "position 4: record 4 modified" "$T/out"
tamper delete;   expect_exit 71 "deleted record found" "${V[@]}"; check "... at position 6" grep -q "position 6: record 6 missing" "$T/out"
# The first checkpoint beyond what is left names the truncation.
CUT="$(jq -s "[.[] | select(.kind == \"checkpoint\" and .seq > $((NREC - 3))) | .seq] | min" "$T/export.jsonl")"
tamper truncate; expect_exit 71 "deleted tail found" "${V[@]}"; check "... after checkpoint $CUT" grep -q "records truncated after checkpoint at $CUT" "$T/out"
tamper reorder;  expect_exit 71 "reordered records found" "${V[@]}"; check "... at position 3" grep -q "position 3: record 3 missing / out of order" "$T/out"
"${V[@]}" --json >"$T/bad.json" 2>/dev/null
check "--json report names problem and position" jq -e '.ok == false and .problem == "record_missing" and .position == 3' "$T/bad.json"

# kill -9 in the middle of a load: every operation whose response arrived has its record.
start_sigild "$I" || { fail "sigild restarts"; finish; exit 1; }
: >"$T/acked"
load() {  # load WORKER: creates users until the server dies; logs those acknowledged with 201
  local w="$1" i=0
  while :; do
    i=$((i + 1))
    code="$(curl -s --max-time 10 --cacert "$I/pki/root-ca.pem" -o /dev/null -w '%{http_code}' "${A[@]}" \
      -d "{\"username\":\"load-$w-$i\",\"roles\":[\"service\"]}" "$BASE/api/admin/v1/users")"
    case "$code" in
      201) echo "load-$w-$i" >>"$T/acked" ;;
      000) return 0 ;;
    esac
  done
}
for w in 1 2 3 4; do load "$w" & done
sleep 3
kill -9 "$SIGILD_PID"; wait "$SIGILD_PID" 2>/dev/null; SIGILD_PID=""
wait
ACKED="$(wc -l <"$T/acked")"
check "the load made progress before the kill ($ACKED acknowledged)" test "$ACKED" -gt 5
start_sigild "$I" || { fail "sigild restarts after kill -9"; finish; exit 1; }
export SIGIL_API_KEY="$AUD_KEY"
: >"$T/recorded.raw"
after=0
while :; do  # page through every admin.user.create record
  "${C[@]}" --json audit list --type admin.user.create --limit 1000 --after-seq "$after" >"$T/after.json" || break
  jq -r '.records[] | select(.outcome == "success") | .details.username' "$T/after.json" >>"$T/recorded.raw"
  [ "$(jq -r .more "$T/after.json")" = true ] || break
  after="$(jq -r .next_after_seq "$T/after.json")"
done
sort "$T/recorded.raw" >"$T/recorded"
sort "$T/acked" >"$T/acked.sorted"
MISSING="$(comm -23 "$T/acked.sorted" "$T/recorded" | wc -l)"
check "every acknowledged user creation has its record ($MISSING missing)" test "$MISSING" -eq 0
expect_exit 0 "the chain verifies after kill -9 and restart" "${C[@]}" audit verify
"${CURL[@]}" "$BASE/readyz" >"$T/ready.json"
check "/readyz includes the audit log" bash -c "jq -e '.checks.audit == \"ok\"' '$T/ready.json' >/dev/null"

finish
