#!/usr/bin/env bash
# Load run of CSC signatures/signHash against a real sigild (HTTPS, access token, SAD, audit log),
# with 1 and 32 hashes per call, RSA-2048 and P-256 keys in SoftHSM2, next to the raw PKCS#11
# C_Sign rate of the same kind of key measured in the same run (bench/sigil_bench raw_copy) and
# next to the issue's reference, a bare Beast HTTPS server doing one C_Sign per hash on the same
# keys (bench/sigil_bare_server), driven by the same wrk script. Prints a Markdown table for
# docs/performance.md. Not part of `make test`.
# usage: bench/csc_load.sh BUILD_DIR [SECONDS] [CONNECTIONS]
# WORKERS (default 2 × CONNECTIONS, at least 8) sets server.worker_threads: a call waits for its
# audit group commit on a worker thread, so the workers bound the calls in flight. WRK_THREADS
# (default 2, at most CONNECTIONS): wrk's own threads; the connections of a thread share its SAD.
set -euo pipefail
BUILD="${1:?usage: csc_load.sh BUILD_DIR [SECONDS] [CONNECTIONS]}"
SECS="${2:-10}"
CONNS="${3:-16}"
WRK_THREADS="${WRK_THREADS:-$(( CONNS < 2 ? CONNS : 2 ))}"
WORKERS="${WORKERS:-$(( CONNS * 2 > 8 ? CONNS * 2 : 8 ))}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
SIGILD="$BUILD/src/app/sigild"; SIGILCTL="$BUILD/src/cli/sigilctl"; HSMB="$BUILD/bench/sigil_bench"
T="$(mktemp -d -t sigil-bench.XXXXXX)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

I="$T/i"
"$SIGILCTL" init --dir "$I" --template "$SRC/config/sigil.example.toml" >/dev/null
sed -i -e 's/^port = 8443.*/port = 0/' -e 's|^# port_file = .*|port_file = "run/sigil.port"|' \
       -e 's/^max_signatures = .*/max_signatures = 10000/' -e 's/^access_log = true/access_log = false/' \
       -e 's/^level = "info"/level = "warn"/' -e "s/^worker_threads = 4 /worker_threads = $WORKERS /" "$I/sigil.toml"
mkdir -p "$I/run"
L=("$SIGILCTL" --config "$I/sigil.toml" --local)
printf 'bench-password-123\n' >"$T/pw"
"${L[@]}" user add bench --role signer --password-file "$T/pw" >/dev/null
declare -A CRED
for k in ec-p256 rsa-2048; do
  "${L[@]}" key generate "bench-$k" --type "$k" >/dev/null
  "${L[@]}" cert issue "bench-$k" --subject "CN=Bench $k,O=Sigil Bench,C=EU" >/dev/null
  CRED[$k]="$("${L[@]}" --json credential create --owner bench --key "bench-$k" --scal 1 --second-factor none |
              python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
done
"$SIGILD" --config "$I/sigil.toml" >"$T/sigild.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do [ -s "$I/run/sigil.port" ] && break; sleep 0.05; done
URL="https://127.0.0.1:$(cat "$I/run/sigil.port")"
AT="$(curl -sS --cacert "$I/pki/root-ca.pem" -u bench:bench-password-123 -X POST -d '{}' "$URL/csc/v2/auth/login" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
declare -A ALGO=([ec-p256]=1.2.840.10045.4.3.2 [rsa-2048]=1.2.840.113549.1.1.11)
declare -A RESULT
load() {  # load SERVER: the four runs against $URL, whose process is $PID
  for k in ec-p256 rsa-2048; do
    for nh in 1 32; do
      c0="$(cpu_ticks)"
      out="$(AT="$AT" CRED="${CRED[$k]}" NH="$nh" ALGO="${ALGO[$k]}" SIGS=10000 \
             wrk -t "$WRK_THREADS" -c "$CONNS" -d "${SECS}s" -s "${LUA:-$SRC/bench/csc_signhash.lua}" "$URL" | grep '^RESULT')"
      c1="$(cpu_ticks)"
      n="$(sed 's/.*signatures=\([0-9]*\).*/\1/' <<<"$out")"
      # The server's own CPU time (user + system) per signature: unlike signatures/s it does not
      # move with what else the machine runs (the load generator shares it).
      out="$out cpu_us_per_sig=$(python3 -c "print(round(($c1-$c0)/$(getconf CLK_TCK)*1e6/max($n,1),1))")"
      RESULT[$1/$k/$nh]="$out"
      echo "$1: $k, $nh hash(es)/call: $out" >&2
    done
  done
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}
load sigild

# The reference on the same token and keys: no token check, no SAD, no audit, no worker hop.
SOFTHSM2_CONF="$I/softhsm2.conf" "$BUILD/bench/sigil_bare_server" /usr/lib/softhsm/libsofthsm2.so sigil \
  "$I/secrets/user.pin" bench-ec-p256 bench-rsa-2048 "$I/tls/server.crt" "$I/tls/server.key" "$I/run/bare.port" \
  2 >"$T/bare.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do [ -s "$I/run/bare.port" ] && break; sleep 0.05; done
URL="https://127.0.0.1:$(cat "$I/run/bare.port")"
load bare

# The raw limit, same machine, same run: C_SignInit + C_Sign on a session copy of the key, 1 and 2 threads.
"$HSMB" --benchmark_filter='^raw_copy/(rsa-2048|ec-p256)/.*threads:(1|2)$' --benchmark_format=csv >"$T/raw.csv" 2>/dev/null || true
rate() {  # rate KEY THREADS [COLUMN] -> items_per_second (or COLUMN) of the raw session-copy C_Sign
  python3 - "$T/raw.csv" "$1" "$2" "${3:-items_per_second}" <<'PY'
import csv, sys
for row in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith(('name', '"raw'))):
    if f"/{sys.argv[2]}/" in row["name"] and row["name"].endswith(f"threads:{sys.argv[3]}"):
        v = float(row[sys.argv[4]])
        print(int(v) if sys.argv[4] == "items_per_second" else round(v / 1000, 1)); break
PY
}
echo "| key | hashes/call | signatures/s (HTTPS+auth+SAD+audit) | p50 ms | p99 ms | raw C_Sign/s (1 thr / 2 thr) | ratio to best raw | bare server signatures/s (ratio to raw) | sigild / bare | sigild CPU µs/sig | bare CPU µs/sig | raw CPU µs/sig (2 thr) | CPU ratio to raw | CPU ratio to bare |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
field() { sed "s/.*$1=\([0-9.]*\).*/\1/" <<<"$2"; }
for k in rsa-2048 ec-p256; do
  r1="$(rate "$k" 1)"; r2="$(rate "$k" 2)"
  best=$(( ${r1:-0} > ${r2:-0} ? ${r1:-0} : ${r2:-0} ))
  craw="$(rate "$k" 2 cpu_time)"
  for nh in 1 32; do
    s="${RESULT[sigild/$k/$nh]}"; b="${RESULT[bare/$k/$nh]}"
    python3 - "$k" "$nh" "$(field sig_per_s "$s")" "$(field p50_ms "$s")" "$(field p99_ms "$s")" "${r1:-0}" "${r2:-0}" \
              "$best" "$(field sig_per_s "$b")" "$(field cpu_us_per_sig "$s")" "$(field cpu_us_per_sig "$b")" \
              "${craw:-0}" <<'PY'
import sys
k, nh, sps, p50, p99, r1, r2, best, bps, cps, cpb, craw = sys.argv[1:]
sps, best, bps, cps, cpb, craw = map(float, (sps, best, bps, cps, cpb, craw))
q = lambda a, b: f"{a / b:.2f}" if b else "n/a"
print(f"| {k} | {nh} | {sps:.0f} | {p50} | {p99} | {r1} / {r2} | {q(sps, best)} | {bps:.0f} ({q(bps, best)}) | "
      f"{q(sps, bps)} | {cps} | {cpb} | {craw} | {q(craw, cps)} | {q(cpb, cps)} |")
PY
  done
done
