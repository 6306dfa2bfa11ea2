#!/usr/bin/env bash
# The DSS project's own Postman collection (../shared/specs/dss/) replayed with newman against a
# real sigild: every request Sigil supports, pointed at the instance and authenticated with the
# demo signer's API key (tests/integration/postman/prepare_collection.py writes the filtered copy
# with one test script per request, asserting the outcome Sigil should give for DSS's sample data).
# Fails when a request errors with 5xx or any other unexpected status, when an assertion fails, or
# when fewer requests ran than were kept; the document time-stamp newman received is checked by
# the independent validator, and the audit trail must hold it.
# usage: dss_postman_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"
V="$SRC/../shared/validators"
P="$SRC/tests/integration/postman"
NEWMAN="$P/node_modules/.bin/newman"
COLLECTION="$SRC/../shared/specs/dss/DSS_REST_services.postman_collection.json"

if [ ! -x "$NEWMAN" ]; then
  echo "newman is not installed in $P/node_modules: run scripts/install-deps"
  fail "newman available"; finish; exit 1
fi
[ -r "$COLLECTION" ] || { fail "the DSS Postman collection is readable ($COLLECTION)"; finish; exit 1; }

I="$T/instance"
init_instance "$I" || exit 1
start_sigild "$I" || exit 1
KEY="$(cat "$I/secrets/demo-signer.apikey")"
CRED="$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"

check "the collection is filtered to the supported requests" \
  python3 "$P/prepare_collection.py" "$COLLECTION" "$T/collection.json" "$T/expected.json"

# newman: the instance's CA for TLS, the base URL, key and alias as environment variables. Its
# exit code says whether every assertion passed; the JSON report is checked below as well.
"$NEWMAN" run "$T/collection.json" --ssl-extra-ca-certs "$I/pki/root-ca.pem" \
  --env-var "baseUrl=$BASE" --env-var "apiKey=$KEY" --env-var "alias=$CRED" \
  --timeout-request 60000 --reporters cli,json --reporter-json-export "$T/report.json" \
  --color off --disable-unicode >"$T/newman.log" 2>&1
rc=$?
tail -n 30 "$T/newman.log"
check "newman: every assertion passed (exit $rc)" test "$rc" -eq 0

cat >"$T/check_report.py" <<'PY'
import base64, json, sys
report, expected, pdf_out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
run = report["run"]
ok = True
def bad(msg):
    global ok
    ok = False
    print("  report:", msg)
seen = {}
for e in run["executions"]:
    name = e["item"]["name"]
    code = (e.get("response") or {}).get("code")
    seen[name] = code
    if code is None:
        bad(f"{name}: no response ({e.get('requestError')})")
    elif code >= 500:
        bad(f"{name}: server error {code}")
    elif code != expected.get(name):
        bad(f"{name}: status {code}, expected {expected.get(name)}")
    failed = [a["assertion"] for a in e.get("assertions", []) if a.get("error")]
    if failed:
        bad(f"{name}: failed assertions {failed}")
    if name == "signature/one-document/timestampDocument" and code == 200:
        body = bytes(e["response"]["stream"]["data"])
        open(pdf_out, "wb").write(base64.b64decode(json.loads(body)["bytes"]))
missing = set(expected) - set(seen)
if missing:
    bad(f"not run: {sorted(missing)}")
stats = run["stats"]
passed = sum(1 for n, c in seen.items() if c == expected.get(n))
print(f"  report: {passed}/{len(expected)} requests gave the expected status; "
      f"assertions {stats['assertions']['total']} total, {stats['assertions']['failed']} failed")
if stats["assertions"]["failed"] or stats["requests"]["failed"] or stats["assertions"]["total"] < 3 * len(expected):
    bad("newman's own counters report failures (or too few assertions ran)")
sys.exit(0 if ok and passed == len(expected) else 1)
PY
check "every kept request ran and gave the expected status, no 5xx" \
  python3 "$T/check_report.py" "$T/report.json" "$T/expected.json" "$T/sample-timestamped.pdf"

# The document time-stamp newman got for DSS's sample.pdf: the validator finds a valid
# /ETSI.RFC3161 time-stamp revision; a tampered copy is rejected.
if [ -s "$T/sample-timestamped.pdf" ]; then
  "$V/validate-pades" --trust "$I/pki/root-ca.pem" "$T/sample-timestamped.pdf" >"$T/ts-validate.log" 2>&1
  # The validator calls a PDF with only document time-stamps INVALID ("no signature"); every
  # check of the time-stamp itself must pass and nothing else may fail.
  doc_ts_ok() {
    grep -q '^PASS  sig\[DocTimeStamp1\]\.doc-time-stamp\.message-imprint:' "$1" &&
    grep -q '^PASS  sig\[DocTimeStamp1\]\.doc-time-stamp\.openssl-ts-verify:' "$1" &&
    grep -q '^PASS  sig\[DocTimeStamp1\]\.coverage: covers the whole file' "$1" &&
    ! grep -E '^(FAIL|WARN)' "$1" | grep -vq '^FAIL  signatures: only document time-stamps, no signature'
  }
  check "the time-stamped sample.pdf holds a valid document time-stamp (validate-pades)" doc_ts_ok "$T/ts-validate.log"
  python3 - "$T/sample-timestamped.pdf" "$T/tampered.pdf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[11] ^= 1  # the binary comment on line 2: still a sound PDF, but covered by the time-stamp
open(sys.argv[2], 'wb').write(d)
PY
  "$V/validate-pades" --trust "$I/pki/root-ca.pem" "$T/tampered.pdf" >"$T/tampered-validate.log" 2>&1
  check "a tampered copy fails the time-stamp's imprint" \
    grep -q '^FAIL  sig\[DocTimeStamp1\]\.doc-time-stamp\.message-imprint:' "$T/tampered-validate.log"
else
  fail "timestampDocument returned the time-stamped PDF"
fi

# The audit trail has the time-stamp (format pades, the document's name) and the refused signature.
kill -TERM "$SIGILD_PID"; wait "$SIGILD_PID" 2>/dev/null; SIGILD_PID=""
"$SIGILCTL" --local --config "$I/sigil.toml" --json audit list --type signature.create --limit 100 >"$T/audit.json" 2>"$T/audit.err"
cat >"$T/check_audit.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
recs = d["records"] if isinstance(d, dict) else d
text = [json.dumps(r) for r in recs]
assert any('"pades"' in r and "sample.pdf" in r and '"success"' in r for r in text), text[:3]
assert any('"xades"' in r and '"failure"' in r for r in text), text[:3]
PY
check "audit: the time-stamp and the refused DSS signature value are recorded" python3 "$T/check_audit.py" "$T/audit.json"
check "audit chain verifies" "$SIGILCTL" --local --config "$I/sigil.toml" audit verify
finish
