#!/usr/bin/env bash
# Signing through the real sigild: the demo signer `sigilctl init` creates signs the sample PDF
# with the command `make run` prints (the built-in TSA time-stamps it), DSS server-signing over
# TLS, the built-in TSA answering `openssl ts -query`, every output checked by the independent
# validators, tampered copies rejected, bad input answered with 4xx JSON, and each signature in
# the audit trail.
# usage: signing_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"
V="$SRC/../shared/validators"

I="$T/instance"
init_instance "$I" || exit 1
# A named appearance template (section 1d): 36 pt from the top-left corner, explicit lines, embedded font.
cat >>"$I/sigil.toml" <<'EOF'

[[appearances]]
name = "top-left"
x = 36
y = 36
from_top = true
width = 200
height = 50
lines = ["Approved by Sigil", "Größe – Übung"]
font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
EOF
start_sigild "$I" || exit 1
KEY="$(cat "$I/secrets/demo-signer.apikey")"
AUTH=(-H "Authorization: Bearer $KEY")
CRED="$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"

# 1. The README's command: the raw sample PDF in, the signed PDF out.
code=$("${CURL[@]}" -o "$T/signed.pdf" -w '%{http_code}' -D "$T/headers" "${AUTH[@]}" -H 'Content-Type: application/pdf' \
  --data-binary @"$I/demo/sample.pdf" "$BASE/api/v1/sign?profile=demo-pades&name=sample.pdf")
check "demo profile signs the sample PDF (200)" test "$code" = 200
check "level header says B-T" grep -qi '^x-sigil-signature-level: B-T' "$T/headers"
check "signed PDF passes validate-pades --strict --level B-T" \
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/signed.pdf"
python3 - "$T/signed.pdf" "$T/tampered.pdf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'Hello from Sigil')
d[i] ^= 1
open(sys.argv[2], 'wb').write(d)
PY
check "a tampered copy is rejected" bash -c "! '$V/validate-pades' --quiet --trust '$I/pki/root-ca.pem' '$T/tampered.pdf'"

# 1b. Encrypted PDFs. The password travels in X-Sigil-Pdf-Password; the output stays encrypted with
#     the same password; a missing or wrong password is a 400 document_encrypted that does not echo it.
PW='S3cret-pdf-pw'
qpdf --encrypt "$PW" owner-pw 256 -- "$I/demo/sample.pdf" "$T/enc.pdf"
code=$("${CURL[@]}" -o "$T/enc-err.json" -w '%{http_code}' "${AUTH[@]}" --data-binary @"$T/enc.pdf" "$BASE/api/v1/sign?profile=demo-pades")
check "encrypted PDF without the password: 400 document_encrypted" \
  python3 -c "import json,sys;d=json.load(open('$T/enc-err.json'));assert '$code'=='400' and d['code']=='document_encrypted', d"
code=$("${CURL[@]}" -o "$T/enc-err.json" -w '%{http_code}' "${AUTH[@]}" -H "X-Sigil-Pdf-Password: wrong-$PW" \
  --data-binary @"$T/enc.pdf" "$BASE/api/v1/sign?profile=demo-pades")
check "wrong password: 400 document_encrypted, the password not echoed" \
  python3 -c "import json,sys;d=json.load(open('$T/enc-err.json'));assert '$code'=='400' and d['code']=='document_encrypted' and '$PW' not in json.dumps(d), d"
code=$("${CURL[@]}" -o "$T/enc-signed.pdf" -w '%{http_code}' "${AUTH[@]}" -H "X-Sigil-Pdf-Password: $PW" \
  --data-binary @"$T/enc.pdf" "$BASE/api/v1/sign?profile=demo-pades&name=enc.pdf")
check "encrypted PDF with its user password: 200" test "$code" = 200
check "the signed PDF still needs the password (qpdf --check without it fails)" \
  bash -c "! qpdf --check '$T/enc-signed.pdf' >/dev/null 2>&1"
check "qpdf --password --check finds no errors" bash -c "qpdf --password='$PW' --check '$T/enc-signed.pdf' >/dev/null"
check "pdfsig -upw: the signature is valid" \
  bash -c "pdfsig -nocert -upw '$PW' '$T/enc-signed.pdf' 2>&1 | grep -q 'Signature Validation: Signature is Valid.'"
python3 - "$T/enc-signed.pdf" "$T/enc-tampered.pdf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[len(d) // 3] ^= 1   # inside the encrypted original revision, covered by the ByteRange
open(sys.argv[2], 'wb').write(d)
PY
check "pdfsig -upw rejects a tampered copy" \
  bash -c "! pdfsig -nocert -upw '$PW' '$T/enc-tampered.pdf' 2>&1 | grep -q 'Signature is Valid.'"
check "the password is in neither the log nor the database" \
  bash -c "! grep -qa -- '$PW' '$I/sigild.log' '$I'/sigil.db*"
# An owner-password-only PDF (empty user password, the common case) signs without a header.
qpdf --encrypt "" owner-pw 256 -- "$I/demo/sample.pdf" "$T/enc-owner.pdf"
code=$("${CURL[@]}" -o "$T/enc-owner-signed.pdf" -w '%{http_code}' "${AUTH[@]}" --data-binary @"$T/enc-owner.pdf" \
  "$BASE/api/v1/sign?profile=demo-pades")
check "owner-password-only PDF: 200" test "$code" = 200
check "... and passes validate-pades --strict --level B-T" \
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/enc-owner-signed.pdf"

# 1c. A PDF/A document keeps PDF/A: the demo profile's visible stamp embeds DejaVu Sans.
python3 "$SRC/tests/pades/make_pdfa.py" "$T/pdfa"
code=$("${CURL[@]}" -o "$T/pdfa-signed.pdf" -w '%{http_code}' "${AUTH[@]}" --data-binary @"$T/pdfa/pdfa2b.pdf" \
  "$BASE/api/v1/sign?profile=demo-pades")
check "PDF/A-2B document with a visible stamp: 200" test "$code" = 200
check "... passes validate-pades --strict --level B-T" \
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/pdfa-signed.pdf"
check "... and its stamp's font is embedded (FontFile2)" grep -qa '/FontFile2' "$T/pdfa-signed.pdf"

# 1d. Appearance templates: ?appearance=NAME picks one from [[appearances]], none signs invisibly.
"${CURL[@]}" "${AUTH[@]}" "$BASE/api/v1/appearances" >"$T/appearances.json"
check "GET /api/v1/appearances lists the template" \
  python3 -c "import json;d=json.load(open('$T/appearances.json'));assert [a['name'] for a in d['appearances']]==['top-left'], d"
code=$("${CURL[@]}" -o "$T/tpl.pdf" -w '%{http_code}' "${AUTH[@]}" --data-binary @"$I/demo/sample.pdf" \
  "$BASE/api/v1/sign?profile=demo-pades&appearance=top-left")
check "?appearance=top-left: 200" test "$code" = 200
check "... passes validate-pades --strict --level B-T" \
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/tpl.pdf"
top=$(qpdf --json --json-key=qpdf "$T/tpl.pdf" | python3 -c "
import json,sys
j=json.load(sys.stdin)['qpdf'][1]
o=lambda r: j['obj:'+r]['value'] if isinstance(r,str) else r
cat=o(j['trailer']['value']['/Root'])
page=o(o(cat['/Pages'])['/Kids'][0])
box=o(page['/MediaBox'])
w=o(o(page['/Annots'])[-1])
r=[float(v) for v in o(w['/Rect'])]
print(round(box[3]-r[3]), round(r[0]), round(r[2]-r[0]), round(r[3]-r[1]))")
check "... the stamp sits 36 pt from the top-left corner, 200 x 50 ($top)" test "$top" = "36 36 200 50"
check "... with the template's lines in the embedded font" grep -qa '/BaseFont /DejaVuSans' "$T/tpl.pdf"
code=$("${CURL[@]}" -o "$T/none.pdf" -w '%{http_code}' "${AUTH[@]}" --data-binary @"$I/demo/sample.pdf" \
  "$BASE/api/v1/sign?profile=demo-pades&appearance=none")
check "?appearance=none: 200 and an invisible signature" \
  bash -c "test '$code' = 200 && grep -qa '/Rect \[0 0 0 0\]' '$T/none.pdf'"
code=$("${CURL[@]}" -o "$T/err.json" -w '%{http_code}' "${AUTH[@]}" --data-binary @"$I/demo/sample.pdf" \
  "$BASE/api/v1/sign?profile=demo-pades&appearance=nope")
check "?appearance=nope: 400 with a JSON error naming it" \
  python3 -c "import json;d=json.load(open('$T/err.json'));assert '$code'=='400' and 'nope' in d['error_description'], d"

# 2. DSS server-signing over TLS.
"${CURL[@]}" "${AUTH[@]}" "$BASE/services/rest/server-signing/keys" >"$T/keys.json"
check "server-signing/keys lists the demo credential" grep -q "\"alias\":\"$CRED\"" "$T/keys.json"
printf 'invoice 2026-0001' >"$T/data.txt"
b64=$(base64 -w0 "$T/data.txt")
"${CURL[@]}" "${AUTH[@]}" -H 'Content-Type: application/json' -d "{\"bytes\":\"$b64\"}" \
  "$BASE/services/rest/server-signing/sign/$CRED/SHA256" >"$T/sig.json"
python3 -c "import json,sys;print(json.load(open('$T/sig.json'))['value'])" >"$T/sig.b64" 2>/dev/null
openssl x509 -in "$I/pki/root-ca.pem" -noout 2>/dev/null
"${CURL[@]}" "${AUTH[@]}" "$BASE/services/rest/server-signing/key/$CRED" |
  python3 -c "import json,sys,base64;open('$T/leaf.der','wb').write(base64.b64decode(json.load(sys.stdin)['certificate']['encodedCertificate']))"
openssl x509 -inform DER -in "$T/leaf.der" -out "$T/leaf.pem"
check "server-signing/sign verifies (validate-raw-signature)" \
  "$V/validate-raw-signature" --quiet --cert "$T/leaf.pem" --alg ecdsa --md sha256 --data "$T/data.txt" --sig-b64 "$(cat "$T/sig.b64")"

# 3. The built-in TSA.
openssl ts -query -data "$T/data.txt" -sha256 -cert -out "$T/req.tsq" 2>/dev/null
code=$("${CURL[@]}" -o "$T/resp.tsr" -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
  --data-binary @"$T/req.tsq" "$BASE/tsa")
check "POST /tsa answers 200" test "$code" = 200
cat "$I/pki/issuing-ca.pem" >"$T/untrusted.pem"
check "the reply verifies with openssl ts -verify" \
  bash -c "openssl ts -verify -queryfile '$T/req.tsq' -in '$T/resp.tsr' -CAfile '$I/pki/root-ca.pem' -untrusted '$T/untrusted.pem' 2>&1 | grep -q 'Verification: OK'"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary x "$BASE/tsa")
check "POST /tsa with another content type: 415" test "$code" = 415

# 4. Bad input: 4xx with a JSON error body, nothing signed.
code=$("${CURL[@]}" -o "$T/err.json" -w '%{http_code}' "${AUTH[@]}" --data-binary 'not a pdf' \
  "$BASE/api/v1/sign?profile=demo-pades")
check "garbage instead of a PDF: 400" test "$code" = 400
check "error body is JSON with a code" python3 -c "import json;d=json.load(open('$T/err.json'));assert d['code']=='invalid_document', d"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "${AUTH[@]}" --data-binary @"$I/demo/sample.pdf" "$BASE/api/v1/sign?profile=nope")
check "unknown profile: 404" test "$code" = 404
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$I/demo/sample.pdf" "$BASE/api/v1/sign?profile=demo-pades")
check "no credentials: 401" test "$code" = 401

# 5. kill -9 in the middle of a signing load: every signature whose response arrived is in the
#    audit trail after a restart (the response waits for the durable record), and the chain verifies.
: >"$T/acked"
sign_load() {  # sign_load WORKER: signs distinct digests until the server dies; logs acknowledged ones
  local w="$1" i=0 d code
  while :; do
    i=$((i + 1))
    d=$(printf 'load-%s-%s' "$w" "$i" | sha256sum | cut -c1-64)
    code=$(curl -s --max-time 10 --cacert "$I/pki/root-ca.pem" -o /dev/null -w '%{http_code}' "${AUTH[@]}" \
      -H 'Content-Type: application/json' -d "{\"algorithm\":\"SHA256\",\"value\":\"$(echo "$d" | xxd -r -p | base64 -w0)\"}" \
      "$BASE/services/rest/server-signing/sign-digest/$CRED")
    case "$code" in
      200) echo "$d" >>"$T/acked" ;;
      000) return 0 ;;
    esac
  done
}
for w in 1 2 3 4; do sign_load "$w" & done
sleep 3
kill -9 "$SIGILD_PID"; wait "$SIGILD_PID" 2>/dev/null; SIGILD_PID=""
wait
check "the signing load got acknowledged signatures before the kill" test "$(wc -l <"$T/acked")" -gt 0
"$SIGILCTL" --local --config "$I/sigil.toml" --json audit list --type signature.create --limit 1000 >"$T/after-kill.json" 2>/dev/null
missing=0
while read -r d; do grep -q "sha256:$d" "$T/after-kill.json" || missing=$((missing + 1)); done <"$T/acked"
check "no acknowledged signature lost its audit record ($(wc -l <"$T/acked") acknowledged, $missing missing)" test "$missing" -eq 0
start_sigild "$I" || exit 1
check "sigild restarts after kill -9 and is ready" bash -c "'${CURL[0]}' -sS --max-time 10 --cacert '$I/pki/root-ca.pem' '$BASE/readyz' | grep -q ok"

# 6. The audit trail has the signatures (successes and the refused one) and verifies.
kill -TERM "$SIGILD_PID"; wait "$SIGILD_PID" 2>/dev/null; SIGILD_PID=""
"$SIGILCTL" --local --config "$I/sigil.toml" --json audit list --type signature.create --limit 50 >"$T/audit.json" 2>"$T/audit.err"
cat >"$T/check_audit.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
recs = [json.dumps(r) for r in (d["records"] if isinstance(d, dict) else d)]
ok = [r for r in recs if '"success"' in r]
bad = [r for r in recs if '"failure"' in r]
assert len(ok) >= 2 and len(bad) >= 1, (len(ok), len(bad), recs[:1])
assert any('"pades"' in r for r in ok)
PY
check "signature records in the audit trail (successes and the refused one)" python3 "$T/check_audit.py" "$T/audit.json"
check "audit chain verifies" "$SIGILCTL" --local --config "$I/sigil.toml" audit verify

# 7. A large upload (SIGIL_LARGE_UPLOAD_MB, default 1024) signs with bounded memory: the body is
# spooled to disk, the PDF is hashed by streaming and the signed file is sent back from disk.
MB="${SIGIL_LARGE_UPLOAD_MB:-1024}"
[ -n "${ASAN_OPTIONS:-}" ] && MB="${SIGIL_LARGE_UPLOAD_MB:-256}"  # instrumented: slower, bound not checked
sed -i -e 's/^max_body_bytes = .*/max_body_bytes = 4294967296/' -e 's/^request_timeout_ms = .*/request_timeout_ms = 600000/' "$I/sigil.toml"
start_sigild "$I" || exit 1
python3 - "$T/large.pdf" "$MB" <<'PY'
import os, sys
path, mb = sys.argv[1], int(sys.argv[2])
chunk = os.urandom(1 << 20)
with open(path, "wb") as f:
    offsets = []
    f.write(b"%PDF-1.7\n")
    def obj(n, body):
        offsets.append(f.tell()); f.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>")
    content = b"q 100 0 0 100 72 600 cm /Im1 Do Q"
    obj(4, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    # One big image stream: a picture of noise, mb MiB of it.
    offsets.append(f.tell())
    n = mb << 20
    f.write(b"5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height 1024 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n" % (n // 1024, n))
    for _ in range(mb): f.write(chunk)
    f.write(b"\nendstream\nendobj\n")
    xref = f.tell()
    f.write(b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets))
    f.write(b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
PY
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SIGILD_PID/status"; }
before="$(hwm)"
code=$("${CURL[@]}" --max-time 600 -o "$T/large-signed.pdf" -w '%{http_code}' "${AUTH[@]}" -H 'Content-Type: application/pdf' \
  -X POST -T "$T/large.pdf" "$BASE/api/v1/sign?profile=demo-pades&name=large.pdf")
after="$(hwm)"
check "a $MB MiB PDF signs (200)" test "$code" = 200
if [ -n "${ASAN_OPTIONS:-}" ]; then
  # ASan keeps freed memory in its quarantine (256 MiB), so peak RSS measures allocation churn there,
  # not what is live: the bound is checked in the release build only.
  echo "SKIP: peak memory bound under ASan (from $before to $after MiB)"
else
  check "with sigild's peak memory grown by less than 64 MiB (from $before to $after MiB)" test $((after - before)) -lt 64
fi
check "the signed file is the original plus an incremental update" \
  cmp -s -n "$(stat -c %s "$T/large.pdf")" "$T/large.pdf" "$T/large-signed.pdf"
python3 - "$T/large-signed.pdf" "$T/large.cms" "$T/large.ranges" <<'PY'
# The /ByteRange and /Contents of the (last) signature, from the file's tail.
import re, sys
f = open(sys.argv[1], "rb"); f.seek(0, 2); size = f.tell(); f.seek(max(0, size - (1 << 20))); tail = f.read()
m = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", tail))[-1]
a, b, c, d = map(int, m.groups())
f.seek(a + b + 1); hexsig = f.read(c - a - b - 2)
open(sys.argv[2], "wb").write(bytes.fromhex(hexsig.decode()))
open(sys.argv[3], "w").write(f"{b} {c} {d}\n")
PY
read -r RB RC RD <"$T/large.ranges"
check "its CMS verifies with OpenSSL over the /ByteRange bytes against the demo root" \
  bash -c "openssl cms -verify -binary -inform DER -in '$T/large.cms' -CAfile '$I/pki/root-ca.pem' -purpose any -out /dev/null \
           -content <(head -c $RB '$T/large-signed.pdf'; tail -c +$((RC + 1)) '$T/large-signed.pdf' | head -c $RD) 2>/dev/null"
rm -f "$T/large.pdf" "$T/large-signed.pdf"
finish
