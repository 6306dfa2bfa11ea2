#!/usr/bin/env bash
# Throughput of the Sign Service against a real sigild (HTTPS, SoftHSM2 P-256 keys, audit log with
# synchronous=FULL): a portal creates 10 KB PDFs (PAdES B-B) for one signer each, and the signers sign
# their tasks with a PIN (SCAL2, Argon2id PIN check, a SAD bound to the document's hash, spent at
# once). C client processes run side by side, each for its own signer, over keep-alive connections.
# Reports documents per minute for creation and for signing, sigild's CPU per signed document, and
# the same PAdES B-B signature through the one-call API (/api/v1/sign, unattended, no second factor)
# as the reference. Not part of `make test`.
# usage: bench/signservice_load.sh BUILD_DIR [DOCS_PER_CLIENT] [CLIENTS]
set -euo pipefail
BUILD="${1:?usage: signservice_load.sh BUILD_DIR [DOCS_PER_CLIENT] [CLIENTS]}"
N="${2:-100}"
C="${3:-4}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
SIGILD="$BUILD/src/app/sigild"; SIGILCTL="$BUILD/src/cli/sigilctl"
T="$(mktemp -d -t sigil-ss.XXXXXX)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

I="$T/i"
"$SIGILCTL" init --dir "$I" --template "$SRC/config/sigil.example.toml" >/dev/null
sed -i -e 's/^port = 8443.*/port = 0/' -e 's|^# port_file = .*|port_file = "run/sigil.port"|' \
       -e 's/^access_log = true/access_log = false/' -e 's/^level = "info"/level = "warn"/' "$I/sigil.toml"
cat >>"$I/sigil.toml" <<EOF

[[profiles]]
name = "ss-pades"
format = "pades"
level = "B-B"

[[profiles]]
name = "one-call-pades"
credential = "$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"
format = "pades"
level = "B-B"
EOF
mkdir -p "$I/run"
L=("$SIGILCTL" --config "$I/sigil.toml" --local)
printf 'signer-password-1234' >"$T/pw"; printf '271828' >"$T/pin"
for c in $(seq 1 "$C"); do
  "${L[@]}" user add "signer$c" --role signer --password-file "$T/pw" >/dev/null
  "${L[@]}" key generate "signer$c-key" -t ec-p256 >/dev/null
  "${L[@]}" cert issue "signer$c-key" -s "CN=Signer $c,O=Sigil Bench" >/dev/null
  cred="$("${L[@]}" --json credential create --owner "signer$c" --key "signer$c-key" --scal 2 --second-factor pin |
    python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")"
  "${L[@]}" credential pin "$cred" --pin-file "$T/pin" >/dev/null
done

"$SIGILD" --config "$I/sigil.toml" >"$T/sigild.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do [ -s "$I/run/sigil.port" ] && break; sleep 0.05; done
PORT="$(cat "$I/run/sigil.port")"

cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }  # user + system, clock ticks
TICK="$(getconf CLK_TCK)"

# client.py PHASE INDEX: one client, its own signer; prints seconds taken.
cat >"$T/client.py" <<'PY'
import base64, http.client, json, ssl, sys, time
phase, idx, n, port, ca, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
def call(method, path, body=None, auth=None, ctype="application/json"):
    h = {"Content-Type": ctype}
    if auth: h["Authorization"] = auth
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return data
def pdf(i):
    stream = f"BT /F1 18 Tf 72 720 Td (Contract {idx}-{i:05d}) Tj ET".encode()
    filler = b"% " + b"x" * 76 + b"\n"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    body, offsets = b"%PDF-1.7\n" + filler * 120, []
    for k, o in enumerate(objs, 1):
        offsets.append(len(body)); body += b"%d 0 obj\n" % k + o + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return body + b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
portal = "Bearer " + key
start = time.monotonic()
if phase == "create":
    for i in range(n):
        call("POST", "/api/v1/documents", json.dumps({"name": f"c{idx}-{i}.pdf", "profile": "ss-pades",
             "signers": [f"signer{idx}"], "content": base64.b64encode(pdf(i)).decode()}), portal)
elif phase == "sign":
    basic = "Basic " + base64.b64encode(f"signer{idx}:signer-password-1234".encode()).decode()
    token = json.loads(call("POST", "/csc/v2/auth/login", b"{}", basic))["access_token"]
    me = "Bearer " + token
    tasks = json.loads(call("GET", "/api/v1/tasks", None, me))["tasks"]
    assert len(tasks) == n, len(tasks)
    start = time.monotonic()
    for t in tasks:
        call("POST", f"/api/v1/tasks/{t['id']}/sign", json.dumps({"pin": "271828"}), me)
elif phase == "one-call":
    for i in range(n):
        call("POST", "/api/v1/sign?profile=one-call-pades&name=x.pdf", pdf(i), portal, "application/pdf")
print(f"{time.monotonic() - start:.3f}")
PY

KEY="$(cat "$I/secrets/demo-signer.apikey")"
run_phase() {  # run_phase PHASE -> "wall_seconds cpu_ms_per_doc"
  local c0 t0 t1 c1
  c0="$(cpu)"; t0="$(date +%s.%N)"
  for c in $(seq 1 "$C"); do
    python3 "$T/client.py" "$1" "$c" "$N" "$PORT" "$I/pki/root-ca.pem" "$KEY" >"$T/$1.$c.out" 2>&1 &
  done
  wait
  cat "$T/$1".*.out | grep -v "^[0-9.]*$" >&2 || true
  t1="$(date +%s.%N)"; c1="$(cpu)"
  python3 -c "print(f'{$t1-$t0:.2f} {($c1-$c0)*1000/$TICK/($N*$C):.1f}')"
}
total=$((N * C))
read -r cw cc < <(run_phase create)
read -r sw sc < <(run_phase sign)
read -r ow oc < <(run_phase one-call)
done_docs="$("${L[@]}" --json audit list --type signservice.document.complete --limit 1000 | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d.get('records', d)) if isinstance(d, dict) else len(d))")"
echo "| step | documents | clients | wall s | docs/min | sigild CPU ms/doc |"
echo "|---|---:|---:|---:|---:|---:|"
python3 - "$total" "$C" "$cw" "$cc" "$sw" "$sc" "$ow" "$oc" <<'PY'
import sys
total, c = int(sys.argv[1]), int(sys.argv[2])
for name, w, cpu in [("create (portal, 10 KB PDF)", sys.argv[3], sys.argv[4]),
                     ("sign (signer: PIN, SAD, PAdES B-B, audit)", sys.argv[5], sys.argv[6]),
                     ("reference: /api/v1/sign, unattended PAdES B-B", sys.argv[7], sys.argv[8])]:
    print(f"| {name} | {total} | {c} | {float(w):.1f} | {total * 60 / float(w):,.0f} | {cpu} |")
PY
echo "completed documents recorded in the audit trail: $done_docs (expected $total)"
