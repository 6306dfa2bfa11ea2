#!/usr/bin/env bash
# Bulk throughput of the batch API against a real sigild (HTTPS, API key, SoftHSM2 P-256 key, audit
# log): documents per minute and the daemon's peak memory for 10 KB PDFs (PAdES B-B), 100 KB XML
# invoices (XAdES B-B enveloped) and 1 MB binaries (CAdES B-B detached), next to the same work done
# by podofosign, xmlsec1 --sign and openssl cms -sign looping over the same files with a software
# key, and the raw PKCS#11 C_Sign rate (bench/sigil_bench raw_copy). Prints a Markdown table for
# docs/performance.md. Not part of `make test`.
# usage: bench/batch_load.sh BUILD_DIR [DOCS_PER_KIND]   (WORKERS: batch.workers, default 2)
set -euo pipefail
BUILD="${1:?usage: batch_load.sh BUILD_DIR [DOCS_PER_KIND]}"
N="${2:-200}"
WORKERS="${WORKERS:-2}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
SIGILD="$BUILD/src/app/sigild"; SIGILCTL="$BUILD/src/cli/sigilctl"; HSMB="$BUILD/bench/sigil_bench"
T="$(mktemp -d -t sigil-bulk.XXXXXX)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

I="$T/i"
"$SIGILCTL" init --dir "$I" --template "$SRC/config/sigil.example.toml" >/dev/null
CRED="$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"
sed -i -e 's/^port = 8443.*/port = 0/' -e 's|^# port_file = .*|port_file = "run/sigil.port"|' \
       -e 's/^access_log = true/access_log = false/' -e 's/^level = "info"/level = "warn"/' \
       -e "s/^workers = 2 /workers = $WORKERS /" -e 's/^max_body_bytes = .*/max_body_bytes = 536870912/' "$I/sigil.toml"
cat >>"$I/sigil.toml" <<EOF

[[profiles]]
name = "b-pades"
credential = "$CRED"
format = "pades"
level = "B-B"

[[profiles]]
name = "b-xades"
credential = "$CRED"
format = "xades"
level = "B-B"
packaging = "enveloped"

[[profiles]]
name = "b-cades"
credential = "$CRED"
format = "cades"
level = "B-B"
packaging = "detached"
EOF
mkdir -p "$I/run" "$T/pdf" "$T/xml" "$T/bin"

# Inputs: N of each kind, distinct contents.
python3 - "$T" "$N" <<'PY'
import os, sys
t, n = sys.argv[1], int(sys.argv[2])
def pdf(i, size):
    filler = b"% " + b"x" * 76 + b"\n"
    stream = f"BT /F1 18 Tf 72 720 Td (Invoice {i:05d}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    body, offsets = b"%PDF-1.7\n" + filler * (size // len(filler)), []
    for k, o in enumerate(objs, 1):
        offsets.append(len(body)); body += b"%d 0 obj\n" % k + o + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return body + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
for i in range(n):
    open(f"{t}/pdf/{i:05d}.pdf", "wb").write(pdf(i, 10_000))
    lines = "".join(f"  <line n='{k}'><item>Widget {k}</item><qty>{k % 7 + 1}</qty><price>{k * 3 % 97}.50</price></line>\n" for k in range(1250))
    open(f"{t}/xml/{i:05d}.xml", "w").write(f"<?xml version='1.0' encoding='UTF-8'?>\n<invoice id='{i}'>\n{lines}</invoice>\n")
    if i < max(10, n // 4):  # a batch travels as JSON + base64 in memory: fewer of the 1 MB kind
        open(f"{t}/bin/{i:05d}.bin", "wb").write(os.urandom(1 << 20))
PY

"$SIGILD" --config "$I/sigil.toml" >"$T/sigild.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do [ -s "$I/run/sigil.port" ] && break; sleep 0.05; done
URL="https://127.0.0.1:$(cat "$I/run/sigil.port")"
C=(curl -sS --fail-with-body --cacert "$I/pki/root-ca.pem" -H "Authorization: Bearer $(cat "$I/secrets/demo-signer.apikey")")
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$PID/status"; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$PID/status"; }

declare -A RATE PEAK
for kind in pdf xml bin; do
  profile="b-$(case $kind in pdf) echo pades;; xml) echo xades;; bin) echo cades;; esac)"
  python3 - "$T/$kind" "$profile" >"$T/req.json" <<'PY'
import base64, json, os, sys
d = sys.argv[1]
items = [{"name": f, "bytes": base64.b64encode(open(os.path.join(d, f), "rb").read()).decode()} for f in sorted(os.listdir(d))]
print(json.dumps({"profile": sys.argv[2], "async": True, "items": items}))
PY
  base_rss="$(rss)"
  start=$(date +%s.%N)
  id="$("${C[@]}" -H 'Content-Type: application/json' --data-binary @"$T/req.json" "$URL/api/v1/batches" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  while :; do
    st="$("${C[@]}" "$URL/api/v1/batches/$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["signed"], d["failed"])')"
    set -- $st
    [ "$1" = completed ] && break
    sleep 0.2
  done
  end=$(date +%s.%N)
  [ "$3" = 0 ] || echo "warning: $kind: $3 failed" >&2
  RATE[$kind]="$(python3 -c "print(int($2 * 60 / ($end - $start)))")"
  PEAK[$kind]="$(( $(hwm) - base_rss ))"
  echo "$kind: ${RATE[$kind]} docs/min, peak RSS +${PEAK[$kind]} MB over $base_rss MB" >&2
done
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""

# The same work with local tools and a software P-256 key (their limit: no HSM, no server, no audit).
openssl ecparam -name prime256v1 -genkey -noout -out "$T/key.pem"
openssl req -new -x509 -key "$T/key.pem" -subj "/CN=Bench" -days 2 -out "$T/cert.pem" 2>/dev/null
per_min() {  # per_min COUNT COMMAND...: COUNT documents per minute for the command's run time
  local count="$1" start end; shift
  start=$(date +%s.%N); "$@"; end=$(date +%s.%N)
  python3 -c "print(int($count * 60 / ($end - $start)))"
}
NB="$(ls "$T"/bin/*.bin | wc -l)"
P_PODOFO="$(per_min "$N" bash -c "for f in '$T'/pdf/*.pdf; do podofosign -in \"\$f\" -out \"\$f.s\" -cert '$T/cert.pem' -pkey '$T/key.pem' -digest SHA256 >/dev/null; done")"
sed 's|</invoice>|<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></invoice>|' \
  -i "$T"/xml/*.xml
P_XMLSEC="$(per_min "$N" bash -c "for f in '$T'/xml/*.xml; do xmlsec1 --sign --privkey-pem '$T/key.pem,$T/cert.pem' --output \"\$f.s\" \"\$f\" 2>/dev/null; done")"
P_CMS="$(per_min "$NB" bash -c "for f in '$T'/bin/*.bin; do openssl cms -sign -binary -cades -in \"\$f\" -signer '$T/cert.pem' -inkey '$T/key.pem' -outform DER -out \"\$f.p7s\"; done")"
"$HSMB" --benchmark_filter='^raw_copy/ec-p256/' --benchmark_format=csv >"$T/raw.csv" 2>/dev/null || true
RAW="$(python3 - "$T/raw.csv" <<'PY'
import csv, sys
best = 0
for row in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith(('name', '"raw'))):
    best = max(best, float(row["items_per_second"]))
print(int(best * 60))
PY
)"
echo "| documents | Sigil batch (docs/min) | peak RSS growth | local tool, same files (docs/min) | raw P-256 C_Sign (sig/min) |"
echo "|---|---:|---:|---:|---:|"
echo "| $N × 10 KB PDF, PAdES B-B | ${RATE[pdf]} | ${PEAK[pdf]} MB | podofosign ${P_PODOFO} | $RAW |"
echo "| $N × 100 KB XML, XAdES B-B | ${RATE[xml]} | ${PEAK[xml]} MB | xmlsec1 --sign ${P_XMLSEC} | $RAW |"
echo "| $NB × 1 MB binary, CAdES B-B detached | ${RATE[bin]} | ${PEAK[bin]} MB | openssl cms -sign ${P_CMS} | $RAW |"
