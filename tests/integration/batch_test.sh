#!/usr/bin/env bash
# Batch signing through the real sigild (/api/v1/batches): a synchronous PAdES batch validated by
# the independent validator; a 1,000-document job with 10 corrupt PDFs (990 signatures verified by
# OpenSSL, 10 precise errors, the webhook received); the same request retried with its
# Idempotency-Key (same batch, nothing signed again) and a different request under that key (409);
# hash-only items (detached CAdES over digests); a job interrupted by a restart resumes without
# signing any item twice; bad input answered with 4xx JSON; another user's batch is invisible.
# usage: batch_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"
V="$SRC/../shared/validators"

I="$T/instance"
init_instance "$I" || exit 1
KEY="$(cat "$I/secrets/demo-signer.apikey")"
CRED="$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"

start_webhook_receiver

sed -i "s|^# webhook_prefixes = .*|webhook_prefixes = [\"$HOOK\"]|" "$I/sigil.toml"
# [batch] retries its webhooks for minutes (section 7 stops sigild in the middle of them).
python3 - "$I/sigil.toml" <<'PY'
import re, sys
p = sys.argv[1]; t = open(p).read()
head, sep, rest = t.partition("\n[batch]\n")
assert sep and re.search(r"^webhook_attempts = 3$", rest, re.M), "no [batch] webhook_attempts"
open(p, "w").write(head + sep + re.sub(r"^webhook_attempts = 3$", "webhook_attempts = 20", rest, count=1, flags=re.M))
PY
cat >>"$I/sigil.toml" <<EOF

[[profiles]]
name = "bulk-pades"
credential = "$CRED"
format = "pades"
level = "B-B"

[[profiles]]
name = "bulk-cades"
credential = "$CRED"
format = "cades"
level = "B-B"
packaging = "detached"
EOF
start_sigild "$I" || exit 1
CURL+=(-H "Authorization: Bearer $KEY")

# make_batch OUT.json PROFILE N CORRUPT [EXTRA_JSON]: N small PDFs (distinct text), every item whose
# index is in the comma list CORRUPT replaced by garbage or a truncated PDF.
make_batch() {
  python3 - "$@" <<'PY'
import base64, json, sys
out, profile, n, corrupt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
bad = {int(x) for x in corrupt.split(',') if x}
def pdf(text):
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    body, offsets = b"%PDF-1.7\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(body)); body += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    body += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return body
items = []
for i in range(n):
    doc = pdf(f"Invoice {i:05d}")
    if i in bad:
        doc = doc[: len(doc) // 3] if i % 2 else b"this is not a PDF at all " * 10
    items.append({"name": f"invoice-{i:05d}.pdf", "bytes": base64.b64encode(doc).decode()})
req = {"profile": profile, "items": items}
req.update(extra)
json.dump(req, open(out, "w"))
PY
}

# post_batch BODY.json OUT.json [KEY] -> prints the HTTP status; headers in OUT.json.headers
post_batch() {
  local key=()
  [ -n "${3:-}" ] && key=(-H "Idempotency-Key: $3")
  "${CURL[@]}" --max-time 300 -o "$2" -D "$2.headers" -w '%{http_code}' -H 'Content-Type: application/json' "${key[@]}" \
    --data-binary @"$1" "$BASE/api/v1/batches"
}
# wait_completed ID OUT: polls the batch (status JSON in OUT) for up to 5 minutes; prints its last state.
wait_completed() {
  local state=""
  for _ in $(seq 1 600); do
    "${CURL[@]}" -o "$2" "$BASE/api/v1/batches/$1"
    state="$(field "$2" 'd["state"]')"
    [ "$state" = completed ] && break
    sleep 0.5
  done
  echo "$state"
}
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
# Audit records of signatures made for batch $1 (request ids "<batch>#<index>"), from the trail
# exported by sigilctl (no second writer on the live database).
signatures_of() {
  "$SIGILCTL" --config "$I/sigil.toml" --local audit export -o "$T/trail.jsonl" >/dev/null || { echo "export failed"; return; }
  python3 - "$T/trail.jsonl" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "signature.create" and r.get("outcome") == "success" and r.get("request_id", "").startswith(sys.argv[2] + "#"):
        n += 1
print(n)
PY
}
# batches [KEY]: how many batches the demo signer has (with that idempotency key).
batches() {
  "${CURL[@]}" -o "$T/list.json" "$BASE/api/v1/batches?limit=1000"
  python3 -c "import json,sys; k=sys.argv[2:]; print(sum(1 for b in json.load(open(sys.argv[1]))['batches'] if not k or b.get('idempotencyKey') == k[0]))" \
    "$T/list.json" "$@"
}

# 1. A synchronous PAdES batch: 5 documents, one of them corrupt; outputs inline.
make_batch "$T/small.json" demo-pades 5 2
code=$(post_batch "$T/small.json" "$T/small.out")
check "a small batch answers 200 when done" test "$code" = 200
check "4 signed, 1 failed" test "$(field "$T/small.out" 'd["signed"], d["failed"], d["state"]')" = "(4, 1, 'completed')"
check "the corrupt item names its error" \
  test "$(field "$T/small.out" 'd["items"][2]["state"], d["items"][2]["error"]')" = "('failed', 'invalid_document')"
python3 - "$T/small.out" "$T" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
for it in d["items"]:
    if it["state"] == "signed":
        open(f"{sys.argv[2]}/small-{it['index']}.pdf", "wb").write(base64.b64decode(it["bytes"]))
PY
ok=0
for k in 0 1 3 4; do
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/small-$k.pdf" >/dev/null && ok=$((ok + 1))
done
check "every signed item passes validate-pades --strict --level B-T" test "$ok" = 4
python3 -c "
import sys; d = bytearray(open(sys.argv[1], 'rb').read()); i = d.find(b'Invoice 00003'); d[i] ^= 1; open(sys.argv[2], 'wb').write(d)" \
  "$T/small-3.pdf" "$T/small-3-tampered.pdf"
check "a tampered output is rejected" bash -c "! '$V/validate-pades' --quiet --trust '$I/pki/root-ca.pem' '$T/small-3-tampered.pdf'"
SMALL_ID="$(field "$T/small.out" 'd["id"]')"
"${CURL[@]}" -o "$T/item1.pdf" -D "$T/item1.h" "$BASE/api/v1/batches/$SMALL_ID/items/1"
check "one signed item downloads as a PDF identical to the inline copy" cmp -s "$T/item1.pdf" "$T/small-1.pdf"
code=$("${CURL[@]}" -o "$T/item2.json" -w '%{http_code}' "$BASE/api/v1/batches/$SMALL_ID/items/2")
check "the failed item has no download (404 JSON)" bash -c "[ $code = 404 ] && grep -q '\"error\"' '$T/item2.json'"

# 2. 1,000 documents, 10 corrupt: a job (202), progress, the webhook, 990 signatures that verify.
CORRUPT="7,99,150,333,401,555,600,777,888,999"
make_batch "$T/big.json" bulk-pades 1000 "$CORRUPT" "{\"webhook\": \"${HOOK}done\"}"
code=$(post_batch "$T/big.json" "$T/big.out" invoices-2026-11)
check "a 1,000-item batch is accepted as a job (202)" test "$code" = 202
check "with a Location header" grep -qi "^location: /api/v1/batches/b_" "$T/big.out.headers"
BIG_ID="$(field "$T/big.out" 'd["id"]')"
state="$(wait_completed "$BIG_ID" "$T/big.status")"
check "the job completes" test "$state" = completed
check "990 signed, 10 failed, 1000 done" \
  test "$(field "$T/big.status" 'd["signed"], d["failed"], d["done"], d["total"]')" = "(990, 10, 1000, 1000)"
failed_names="$(field "$T/big.status" '",".join(str(i["index"]) for i in d["items"] if i["state"] == "failed")')"
check "exactly the corrupt inputs failed" test "$failed_names" = "$CORRUPT"
check "each failure is a precise invalid_document error" \
  test "$(field "$T/big.status" 'sorted({(i["error"], bool(i["error_description"])) for i in d["items"] if i["state"] == "failed"})')" \
       = "[('invalid_document', True)]"
for _ in $(seq 1 100); do grep -q "$BIG_ID" "$T/hooks.log" 2>/dev/null && break; sleep 0.1; done
check "the webhook reported the finished job" \
  python3 -c "import json,sys; d=[json.loads(l) for l in open(sys.argv[1]) if sys.argv[2] in l][0]; sys.exit(not (d['signed']==990 and d['failed']==10 and d['state']=='completed'))" \
  "$T/hooks.log" "$BIG_ID"
"${CURL[@]}" -o "$T/big.inline" "$BASE/api/v1/batches/$BIG_ID?inline=true"
mkdir -p "$T/big"
verified="$(python3 - "$T/big.inline" "$T/big" "$I/pki/root-ca.pem" <<'PY'
# Each output: the CMS in /Contents over the /ByteRange bytes, verified by OpenSSL against the demo root.
import base64, json, re, subprocess, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]; root = sys.argv[3]
ok = 0
for it in d["items"]:
    if it["state"] != "signed": continue
    pdf = base64.b64decode(it["bytes"])
    a, b, c, e = map(int, re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf).groups())
    sig = bytes.fromhex(pdf[a + b + 1 : c - 1].decode())
    open(f"{out}/s.der", "wb").write(sig); open(f"{out}/d.bin", "wb").write(pdf[a:a + b] + pdf[c:c + e])
    r = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f"{out}/s.der",
                        "-content", f"{out}/d.bin", "-CAfile", root, "-purpose", "any", "-out", "/dev/null"],
                       capture_output=True)
    ok += r.returncode == 0
print(ok)
PY
)"
check "all 990 signed PDFs verify with OpenSSL against the demo root ($verified)" test "$verified" = 990
python3 -c "import json,base64,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],'wb').write(base64.b64decode(d['items'][500]['bytes']))" \
  "$T/big.inline" "$T/big-500.pdf"
check "a sample of the job passes validate-pades --strict --level B-B" \
  validate_strict validate-pades --level B-B --trust "$I/pki/root-ca.pem" "$T/big-500.pdf"
check "990 signature.create records for the job" test "$(signatures_of "$BIG_ID")" = 990

# 3. Idempotency: the same request under the same key is the same batch; nothing is signed again.
code=$(post_batch "$T/big.json" "$T/big.retry" invoices-2026-11)
check "a retried batch answers 200 with the finished batch" test "$code" = 200
check "with the same id" test "$(field "$T/big.retry" 'd["id"]')" = "$BIG_ID"
check "marked as a replay" grep -qi '^idempotent-replayed: true' "$T/big.retry.headers"
check "and no signature made twice" test "$(signatures_of "$BIG_ID")" = 990
check "still exactly one batch for the key" test "$(batches invoices-2026-11)" = 1
code=$(post_batch "$T/small.json" "$T/conflict.out" invoices-2026-11)
check "the key with a different request is refused (409 JSON)" \
  bash -c "[ $code = 409 ] && grep -q 'was used for a different request' '$T/conflict.out'"

# 4. Hash-only: digests in, detached CAdES out; the content never reaches the server.
for k in 1 2 3; do head -c 4096 /dev/urandom >"$T/blob-$k.bin"; done
python3 - "$T" >"$T/digests.json" <<'PY'
import base64, hashlib, json, sys
items = [{"name": f"blob-{k}.bin", "digest": base64.b64encode(hashlib.sha256(open(f"{sys.argv[1]}/blob-{k}.bin", "rb").read()).digest()).decode(),
          "digestAlgorithm": "SHA256"} for k in (1, 2, 3)]
print(json.dumps({"profile": "bulk-cades", "items": items}))
PY
code=$(post_batch "$T/digests.json" "$T/digests.out")
check "a batch of digests signs (200)" test "$code" = 200
python3 -c "
import json,base64,sys; d=json.load(open(sys.argv[1]))
for it in d['items']: open(f\"{sys.argv[2]}/{it['name']}.p7s\",'wb').write(base64.b64decode(it['bytes']))" "$T/digests.out" "$T"
ok=0
for k in 1 2 3; do
  validate_strict validate-cades --level B-B --trust "$I/pki/root-ca.pem" --data "$T/blob-$k.bin" "$T/blob-$k.bin.p7s" >/dev/null && ok=$((ok + 1))
done
check "each detached CAdES over a digest passes validate-cades --strict with its content" test "$ok" = 3
check "and fails against other content" \
  bash -c "! '$V/validate-cades' --quiet --trust '$I/pki/root-ca.pem' --data '$T/blob-2.bin' '$T/blob-1.bin.p7s'"

# 5. Bad input: 4xx with a JSON error, nothing recorded.
bad_request() {  # bad_request "what" BODY EXPECTED_STATUS FRAGMENT
  local code
  code=$("${CURL[@]}" -o "$T/bad.out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" "$BASE/api/v1/batches")
  check "$1 -> $3" bash -c "[ $code = $3 ] && grep -q '\"error\"' '$T/bad.out' && grep -q '$4' '$T/bad.out'"
}
bad_request "malformed JSON" '{"profile": ' 400 error_description
bad_request "no profile" '{"items": [{"name": "a", "bytes": "AAAA"}]}' 400 'profile is required'
bad_request "unknown profile" '{"profile": "nope", "items": [{"name": "a", "bytes": "AAAA"}]}' 400 "no profile named"
bad_request "no items" '{"profile": "demo-pades", "items": []}' 400 'at least one item'
bad_request "bytes and digest together" '{"profile": "bulk-cades", "items": [{"name": "a", "bytes": "AAAA", "digest": "AAAA", "digestAlgorithm": "SHA256"}]}' 400 'exactly one of'
bad_request "a digest for a PAdES profile" \
  '{"profile": "demo-pades", "items": [{"name": "a", "digest": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", "digestAlgorithm": "SHA256"}]}' 400 'needs the document'
bad_request "a digest of the wrong length" '{"profile": "bulk-cades", "items": [{"name": "a", "digest": "AAAA", "digestAlgorithm": "SHA256"}]}' 400 'wrong length'
bad_request "invalid base64" '{"profile": "demo-pades", "items": [{"name": "a", "bytes": "!!!"}]}' 400 'not valid base64'
bad_request "a webhook outside the allowed prefixes" \
  '{"profile": "demo-pades", "webhook": "https://attacker.example/", "items": [{"name": "a", "bytes": "AAAA"}]}' 400 'webhook_prefixes'
code=$("${CURL[@]}" -o "$T/bad.out" -w '%{http_code}' -H 'Content-Type: application/json' -H 'Idempotency-Key: has space' \
  --data-binary @"$T/digests.json" "$BASE/api/v1/batches")
check "a malformed Idempotency-Key -> 400" test "$code" = 400
check "no batch was recorded for any bad request" test "$(batches)" = 3
ALICE=(curl -sS --max-time 20 --cacert "$I/pki/root-ca.pem" -u "alice:$(cat "$I/secrets/alice.password")")
code=$("${ALICE[@]}" -o "$T/alice.out" -w '%{http_code}' "$BASE/api/v1/batches/$BIG_ID")
check "another user does not see the batch (404)" test "$code" = 404
code=$(curl -sS --cacert "$I/pki/root-ca.pem" -o /dev/null -w '%{http_code}' "$BASE/api/v1/batches/$BIG_ID")
check "no credentials -> 401" test "$code" = 401

# 6. A job interrupted by a graceful restart resumes; no item is signed twice.
make_batch "$T/resume.json" bulk-pades 600 ""
code=$(post_batch "$T/resume.json" "$T/resume.out" resume-1)
RESUME_ID="$(field "$T/resume.out" 'd["id"]')"
"${CURL[@]}" -o "$T/resume.first" "$BASE/api/v1/batches/$RESUME_ID"
restart_sigild "$I" || exit 1
CURL+=(-H "Authorization: Bearer $KEY")
before="$(field "$T/resume.first" 'd["done"]')"
state="$(wait_completed "$RESUME_ID" "$T/resume.status")"
check "the interrupted job (202, $before of 600 done at the restart) completes after it" \
  bash -c "[ $code = 202 ] && [ '$state' = completed ] && [ $before -lt 600 ]"
check "with all 600 signed" test "$(field "$T/resume.status" 'd["signed"]')" = 600
check "and exactly 600 signature.create records" test "$(signatures_of "$RESUME_ID")" = 600
# 7. A completion webhook still being retried at a graceful stop stays pending and is sent again at
#    the next start. The receiver is down (its port refuses connections) while the job completes;
#    sigild stops between two attempts; the receiver comes back on its port; the next start sends it.
HOOK_PORT="$(cat "$T/hook.port")"
kill "$HOOK_PID"; wait "$HOOK_PID" 2>/dev/null
make_batch "$T/sync-hook.json" bulk-pades 2 "" "{\"webhook\": \"${HOOK}sync\"}"
code=$("${CURL[@]}" --max-time 20 -o "$T/sync-hook.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$T/sync-hook.json" "$BASE/api/v1/batches")
check "a synchronous batch answers once its items are done, not after its webhook's attempts" \
  test "$code $(field "$T/sync-hook.out" 'd["state"]' 2>/dev/null)" = "200 completed"
make_batch "$T/later.json" bulk-pades 2 "" "{\"webhook\": \"${HOOK}later\", \"async\": true}"
code=$(post_batch "$T/later.json" "$T/later.out")
LATER_ID="$(field "$T/later.out" 'd["id"]')"
state="$(wait_completed "$LATER_ID" "$T/later.status")"
sleep 1  # an attempt or two fail
"${CURL[@]}" -o "$T/later.status" "$BASE/api/v1/batches/$LATER_ID"
check "a completed job whose receiver is down shows its webhook pending" \
  test "$code $state $(field "$T/later.status" 'd["webhook"]')" = "202 completed pending"
kill "$SIGILD_PID"; wait "$SIGILD_PID" 2>/dev/null
check "sigild stopped without giving the webhook up" grep -q "webhook stays pending" "$I/sigild.log"
start_webhook_receiver "$HOOK_PORT"
start_sigild "$I" || exit 1
CURL+=(-H "Authorization: Bearer $KEY")
for _ in $(seq 1 200); do grep -q "$LATER_ID" "$T/hooks.log" 2>/dev/null && break; sleep 0.1; done
check "the next start sent it" grep -q "\"id\": *\"$LATER_ID\"" "$T/hooks.log"
for _ in $(seq 1 50); do
  "${CURL[@]}" -o "$T/later.status" "$BASE/api/v1/batches/$LATER_ID"
  [ "$(field "$T/later.status" 'd["webhook"]')" = delivered ] && break; sleep 0.1
done
check "and recorded it delivered" test "$(field "$T/later.status" 'd["webhook"]')" = delivered

"$SIGILCTL" --config "$I/sigil.toml" --local audit verify >"$T/verify.out" 2>&1; vrc=$?
check "the audit chain verifies" test "$vrc" = 0 || cat "$T/verify.out"

finish
