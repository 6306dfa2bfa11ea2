#!/usr/bin/env bash
# sigilctl sign against a real sigild: a directory of PDFs signed with the demo profile (every output
# checked by the independent validator, a tampered copy rejected), resume (a second run skips
# everything) and --force, a corrupt document among good ones (reported with the server's error,
# the others signed, non-zero exit, no output for it), --hash-only (outputs validate; the audit
# trail shows the server saw only digests, never the documents), XAdES and CAdES profiles, the
# progress line on a TTY only, and bad options.
# usage: sign_cli_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"
V="$SRC/../shared/validators"

I="$T/instance"
init_instance "$I" || exit 1
CRED="$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"
# POST /tsa only for authenticated callers: --hash-only B-T must send the API key to the TSA too.
sed -i 's/^require_auth = false/require_auth = true/' "$I/sigil.toml"
grep -q '^require_auth = true' "$I/sigil.toml" || { echo "FAIL: could not set tsa.builtin.require_auth"; exit 1; }
# More profiles on the demo credential ([[profiles]] tables are the last ones in the file).
cat >>"$I/sigil.toml" <<EOF

[[profiles]]
name = "it-xades"
credential = "$CRED"
format = "xades"
level = "B-T"

[[profiles]]
name = "it-cades"
credential = "$CRED"
format = "cades"
level = "B-T"
packaging = "detached"

[[profiles]]
name = "it-pades-lt"
credential = "$CRED"
format = "pades"
level = "B-LT"
EOF
start_sigild "$I" || exit 1
export SIGIL_API_KEY
SIGIL_API_KEY="$(cat "$I/secrets/demo-signer.apikey")"
S=("$SIGILCTL" --config "$I/sigil.toml")
ROOT="$I/pki/root-ca.pem"

# variant SRC DST N: a copy of the sample PDF whose visible text differs in one character (same
# length, so the xref stays valid): distinct documents with distinct digests.
variant() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
n = int(sys.argv[3])
assert b'Hello from Sigil' in d
d = d.replace(b'Hello from Sigil', b'Hello from Sig' + bytes([0x41 + n // 26, 0x61 + n % 26]), 1)
open(sys.argv[2], 'wb').write(d)
PY
}
tamper() {  # tamper IN OUT: flips one bit of the signed page text
  python3 - "$1" "$2" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'Hello from Sig')
assert i >= 0
d[i] ^= 1
open(sys.argv[2], 'wb').write(d)
PY
}
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
all_valid() {  # all_valid LEVEL FILE...: every file passes validate-pades --strict at LEVEL
  local level="$1" f; shift
  for f in "$@"; do validate_strict validate-pades --level "$level" --trust "$ROOT" "$f" || { echo "invalid: $f"; return 1; }; done
}

# 1. A directory of PDFs, signed by the server with the demo profile.
mkdir -p "$T/in"
for n in 1 2 3 4 5; do variant "$I/demo/sample.pdf" "$T/in/doc$n.pdf" "$n"; done
"${S[@]}" --json sign --profile demo-pades --in "$T/in" --out "$T/out" --concurrency 3 >"$T/run1.json" 2>"$T/run1.err"
rc=$?
check "sign a directory: exit 0" test "$rc" = 0
check "summary: 5 signed, 0 skipped, 0 failed" \
  test "$(jget "$T/run1.json" '(d["signed"], d["skipped"], d["failed"])')" = "(5, 0, 0)"
check "summary reports the level reached (B-T)" test "$(jget "$T/run1.json" 'd["files"][0]["level"]')" = B-T
check "five outputs with the input names" test "$(ls "$T/out" | tr '\n' ' ')" = "doc1.pdf doc2.pdf doc3.pdf doc4.pdf doc5.pdf "
check "no temporary files left in the output directory" test -z "$(ls -A "$T/out" | grep '^\.')"
check "every output passes validate-pades --strict --level B-T" all_valid B-T "$T"/out/*.pdf
tamper "$T/out/doc3.pdf" "$T/tampered.pdf"
check "a tampered copy is rejected" bash -c "! '$V/validate-pades' --quiet --trust '$ROOT' '$T/tampered.pdf'"
check "progress is quiet when stderr is not a terminal" test ! -s "$T/run1.err"

# 2. Resume: a second run skips every existing output and signs nothing; --force signs again.
md5sum "$T"/out/*.pdf >"$T/sums"
"${S[@]}" --json sign --profile demo-pades --in "$T/in" --out "$T/out" >"$T/run2.json" 2>&1
rc=$?
check "second run: exit 0" test "$rc" = 0
check "second run: 0 signed, 5 skipped" test "$(jget "$T/run2.json" '(d["signed"], d["skipped"], d["failed"])')" = "(0, 5, 0)"
check "second run left the outputs untouched" md5sum --quiet -c "$T/sums"
rm "$T/out/doc2.pdf"
"${S[@]}" --json sign --profile demo-pades --in "$T/in" --out "$T/out" >"$T/run3.json" 2>&1
check "after deleting one output, a run signs only that one" \
  test "$(jget "$T/run3.json" '(d["signed"], d["skipped"], [f["input"] for f in d["files"] if f["status"]=="signed"])')" = \
       "(1, 4, ['$T/in/doc2.pdf'])"
before="$(md5sum <"$T/out/doc1.pdf")"
"${S[@]}" --json sign --profile demo-pades --force "$T/in/doc1.pdf" --out "$T/out" >"$T/run4.json" 2>&1
check "--force with a file argument signs it again" test "$(jget "$T/run4.json" '(d["signed"], d["skipped"])')" = "(1, 0)"
check "--force replaced the output" test "$(md5sum <"$T/out/doc1.pdf")" != "$before"
check "the re-signed output validates" all_valid B-T "$T/out/doc1.pdf" "$T/out/doc2.pdf"

# 3. A corrupt document among good ones: reported with the server's error, the others signed.
mkdir -p "$T/mixed"
variant "$I/demo/sample.pdf" "$T/mixed/a.pdf" 10
printf '%%PDF-1.7\nthis is not a PDF\n' >"$T/mixed/b-broken.pdf"
variant "$I/demo/sample.pdf" "$T/mixed/c.pdf" 11
expected="$("${CURL[@]}" -H "Authorization: Bearer $SIGIL_API_KEY" --data-binary @"$T/mixed/b-broken.pdf" \
  "$BASE/api/v1/sign?profile=demo-pades&name=b-broken.pdf" | jget /dev/stdin 'd["error_description"]')"
"${S[@]}" sign --profile demo-pades --in "$T/mixed" --out "$T/mixed-out" >"$T/mixed.txt" 2>&1
rc=$?
check "a failed document makes the exit status non-zero (invalid_document: 80)" test "$rc" = 80
check "the summary counts 2 signed, 1 failed" grep -q '^signed 2, skipped 0 (output exists), failed 1 of 3' "$T/mixed.txt"
check "the failure names the file and the server's error_description ($expected)" \
  grep -qF "FAILED $T/mixed/b-broken.pdf: $expected" "$T/mixed.txt"
check "no output for the corrupt document, nothing half-written" \
  test "$(ls -A "$T/mixed-out" | tr '\n' ' ')" = "a.pdf c.pdf "
check "the good documents of the mixed run validate" all_valid B-T "$T/mixed-out/a.pdf" "$T/mixed-out/c.pdf"
"${S[@]}" --json sign --profile demo-pades --in "$T/mixed" --out "$T/mixed-out" >"$T/mixed2.json" 2>&1
rc=$?
check "resume retries only the failed one (still failing: exit 80, 2 skipped)" \
  test "$rc:$(jget "$T/mixed2.json" '(d["signed"], d["skipped"], d["failed"], [f["code"] for f in d["files"] if f["status"]=="failed"])')" = \
       "80:(0, 2, 1, ['invalid_document'])"

# 4. --hash-only: prepared here, only digests go to the server.
mkdir -p "$T/hin"
for n in 20 21 22; do variant "$I/demo/sample.pdf" "$T/hin/h$n.pdf" "$n"; done
"${S[@]}" --json sign --profile demo-pades --hash-only --in "$T/hin" --out "$T/hout" --concurrency 2 >"$T/hash.json" 2>"$T/hash.err"
rc=$?
check "--hash-only: exit 0" test "$rc" = 0 || cat "$T/hash.err" "$T/hash.json"
check "--hash-only: 3 signed" test "$(jget "$T/hash.json" '(d["signed"], d["failed"], d["hash_only"])')" = "(3, 0, True)"
check "--hash-only: the summary names the digest sent for each document" \
  test "$(jget "$T/hash.json" 'sorted(len(f.get("digest", "")) for f in d["files"])')" = "[71, 71, 71]"
check "--hash-only outputs pass validate-pades --strict --level B-T" all_valid B-T "$T"/hout/*.pdf
code=$(curl -s --cacert "$ROOT" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
  --data-binary @/dev/null "$BASE/tsa")
check "POST /tsa without credentials is refused (401): the B-T above authenticated with the API key" test "$code" = 401
tamper "$T/hout/h21.pdf" "$T/htampered.pdf"
check "a tampered hash-only output is rejected" bash -c "! '$V/validate-pades' --quiet --trust '$ROOT' '$T/htampered.pdf'"
check "no spool or temporary files left behind" test -z "$(ls -A "$T/hout" | grep '^\.')"
"${S[@]}" sign --profile it-pades-lt --hash-only --in "$T/hin" --out "$T/hout-lt" >"$T/lt.txt" 2>&1
rc=$?
check "--hash-only refuses B-LT with a clear message (exit 5)" \
  bash -c "test '$rc' = 5 && grep -q 'hash-only reaches B-B and B-T only' '$T/lt.txt' && test -z \"\$(ls -A '$T/hout-lt')\""

# 4b. Encrypted PDFs: --pdf-password-file (by the server: the X-Sigil-Pdf-Password header; hash-only:
#     opened here); without it the document fails with document_encrypted and nothing is written.
mkdir -p "$T/ein"
qpdf --encrypt 'pdf-pw' owner-pw 256 -- "$I/demo/sample.pdf" "$T/ein/locked.pdf"
printf 'pdf-pw\n' >"$T/pdf-pw.txt"
"${S[@]}" --json sign --profile demo-pades --in "$T/ein" --out "$T/eout-none" >"$T/enc-none.json" 2>/dev/null
rc=$?
check "encrypted PDF without --pdf-password-file: fails with document_encrypted, no output" \
  bash -c "test '$rc' != 0 && test \"\$(python3 -c \"import json;print([f.get('code') for f in json.load(open('$T/enc-none.json'))['files']])\")\" = \"['document_encrypted']\" && test ! -e '$T/eout-none/locked.pdf'"
for mode in server hash-only; do
  extra=(); [ "$mode" = hash-only ] && extra=(--hash-only)
  "${S[@]}" sign --profile demo-pades "${extra[@]}" --pdf-password-file "$T/pdf-pw.txt" --in "$T/ein" --out "$T/eout-$mode" >/dev/null 2>&1
  rc=$?
  check "encrypted PDF with --pdf-password-file ($mode): exit 0" test "$rc" = 0
  check "... pdfsig -upw says the signature is valid and the output still needs the password ($mode)" \
    bash -c "pdfsig -nocert -upw pdf-pw '$T/eout-$mode/locked.pdf' 2>&1 | grep -q 'Signature is Valid.' && ! qpdf --check '$T/eout-$mode/locked.pdf' >/dev/null 2>&1"
done

# 5. XAdES and CAdES profiles, by the server and hash-only.
printf '<?xml version="1.0" encoding="UTF-8"?>\n<invoice><id>2026-0042</id><total>12.50</total></invoice>\n' >"$T/x-in.xml"
mkdir -p "$T/xin" && cp "$T/x-in.xml" "$T/xin/invoice.xml"
"${S[@]}" sign --profile it-xades --in "$T/xin" --out "$T/xout" >/dev/null 2>&1
check "XAdES profile: output validates (validate-xades --strict --level B-T)" \
  validate_strict validate-xades --level B-T --trust "$ROOT" "$T/xout/invoice.xml"
"${S[@]}" sign --profile it-xades --hash-only --in "$T/xin" --out "$T/xout-h" >/dev/null 2>&1
check "XAdES --hash-only: output validates" \
  validate_strict validate-xades --level B-T --trust "$ROOT" "$T/xout-h/invoice.xml"
mkdir -p "$T/cin" && printf 'invoice 2026-0043\n' >"$T/cin/data.txt"
"${S[@]}" sign --profile it-cades --in "$T/cin" --out "$T/cout" >/dev/null 2>&1
check "CAdES detached: the output is data.txt.p7s" test "$(ls "$T/cout")" = data.txt.p7s
check "CAdES detached: validate-cades --strict --level B-T" \
  validate_strict validate-cades --level B-T --trust "$ROOT" --data "$T/cin/data.txt" "$T/cout/data.txt.p7s"
"${S[@]}" sign --profile it-cades --hash-only --in "$T/cin" --out "$T/cout-h" >/dev/null 2>&1
check "CAdES --hash-only: validates" \
  validate_strict validate-cades --level B-T --trust "$ROOT" --data "$T/cin/data.txt" "$T/cout-h/data.txt.p7s"
printf 'tampered 2026-0043\n' >"$T/c-tampered.txt"
check "CAdES: other data is rejected" \
  bash -c "! '$V/validate-cades' --quiet --trust '$ROOT' --data '$T/c-tampered.txt' '$T/cout/data.txt.p7s'"

# 6. The progress line on a terminal.
mkdir -p "$T/tin" && variant "$I/demo/sample.pdf" "$T/tin/t.pdf" 30
script -qec "'$SIGILCTL' --config '$I/sigil.toml' sign --profile demo-pades --in '$T/tin' --out '$T/tout' 2>&1" /dev/null >"$T/tty.txt"
check "on a terminal a progress line shows done/total, failures and the rate" \
  grep -qE 'signing: 1/1 done, 0 failed, [0-9.]+ files/s' "$T/tty.txt"

# 7. The profile route: only the caller's profiles, nothing secret.
"${CURL[@]}" -H "Authorization: Bearer $SIGIL_API_KEY" "$BASE/api/v1/profiles" >"$T/profiles.json"
check "GET /api/v1/profiles lists the demo profile with its settings" \
  test "$(jget "$T/profiles.json" '[(p["name"], p["format"], p["level"], p["packaging"], p["digestAlgorithm"], p["signatureAlgorithm"], p["credential"]) for p in d["profiles"] if p["name"]=="demo-pades"]')" = \
       "[('demo-pades', 'PAdES', 'B-T', 'ENVELOPED', 'SHA256', 'ECDSA_SHA256', '$CRED')]"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SIGIL_API_KEY" "$BASE/api/v1/profiles/nope")
check "GET /api/v1/profiles/nope: 404" test "$code" = 404
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/api/v1/profiles")
check "GET /api/v1/profiles without credentials: 401" test "$code" = 401

# 8. Bad options: a clear message and the CLI's exit codes.
bad() {  # bad EXPECTED_RC PATTERN ARGS...
  local want="$1" pattern="$2" out rc; shift 2
  out="$("$@" 2>&1)"; rc=$?
  [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out" && return 0
  echo "rc=$rc out=$out"; return 1
}
check "no --profile: usage error 64" bad 64 'profile is required' "${S[@]}" sign --in "$T/in" --out "$T/o1"
check "no input: usage error 64" bad 64 'no input' "${S[@]}" sign --profile demo-pades --out "$T/o1"
check "--concurrency 0: usage error 64" bad 64 'concurrency' "${S[@]}" sign --profile demo-pades --in "$T/in" --out "$T/o1" --concurrency 0
check "--local: usage error 64" bad 64 'running sigild' "${S[@]}" --local sign --profile demo-pades --in "$T/in" --out "$T/o1"
check "unknown profile: not found (3)" bad 3 "no signing profile named 'nope'" "${S[@]}" sign --profile nope --in "$T/in" --out "$T/o1"
check "missing input: invalid argument (2)" bad 2 'no such file or directory' "${S[@]}" sign --profile demo-pades --in "$T/missing" --out "$T/o1"
check "--out equal to --in: invalid argument (2)" bad 2 'must not be an input directory' "${S[@]}" sign --profile demo-pades --in "$T/in" --out "$T/in"
check "no credentials: not authenticated (10)" bad 10 'no credentials' env -u SIGIL_API_KEY "${S[@]}" sign --profile demo-pades --in "$T/in" --out "$T/o1"
printf 'sk_wrong\n' >"$T/wrong.key"
check "a wrong API key: not authenticated (10)" bad 10 '.' env -u SIGIL_API_KEY "${S[@]}" --api-key-file "$T/wrong.key" sign --profile demo-pades --in "$T/in" --out "$T/o1"
check "the API key is never printed" bash -c "! grep -rqF -- '$SIGIL_API_KEY' '$T'/*.txt '$T'/*.json '$T'/*.err"

# 9. The audit trail: the server saw the documents of the remote runs, never those of --hash-only.
kill -TERM "$SIGILD_PID"; wait "$SIGILD_PID" 2>/dev/null; SIGILD_PID=""
"$SIGILCTL" --local --config "$I/sigil.toml" --json audit list --type signature.create --limit 1000 >"$T/audit.json" 2>&1
seen() { grep -q "sha256:$(sha256sum "$1" | cut -c1-64)" "$T/audit.json"; }
check "control: the audit trail holds the digest of a document the server signed" seen "$T/in/doc4.pdf"
for f in "$T"/hin/*.pdf; do
  check "--hash-only: the server never saw $(basename "$f") (its digest is not in the audit trail)" bash -c "! grep -q sha256:$(sha256sum "$f" | cut -c1-64) '$T/audit.json'"
done
cat >"$T/raw_only.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
records = d["records"] if isinstance(d, dict) else d
digest = sys.argv[2]
hits = [r for r in records if digest in json.dumps(r)]
# One signature over exactly this digest, through the digest endpoint (format "raw"), never a document.
assert len(hits) == 1 and hits[0]["details"]["format"] == "raw", hits
PY
for d in $(jget "$T/hash.json" '" ".join(f["digest"] for f in d["files"])'); do
  check "--hash-only: the server signed the digest the client sent, as a raw digest (${d:0:20}...)" \
    python3 "$T/raw_only.py" "$T/audit.json" "$d"
done
check "audit chain verifies" "$SIGILCTL" --local --config "$I/sigil.toml" audit verify
finish
