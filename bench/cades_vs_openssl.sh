#!/usr/bin/env bash
# CAdES detached and attached signing of 1 MB and 1 GB files: time and peak RSS of sigil's engine
# (bench/cades_file.cpp) against `openssl dgst -sha256` (the hashing limit) and `openssl cms -sign`
# on the same files. Prints a Markdown table for docs/performance.md.
# usage: bench/cades_vs_openssl.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
build="${1:?usage: cades_vs_openssl.sh BUILD_DIR [WORK_DIR]}"
work="${2:-$(mktemp -d)}"
bin="$build/bench/sigil_cades_file"
[ -x "$bin" ] || { echo "missing $bin (build target sigil_cades_file)" >&2; exit 2; }
mkdir -p "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
[ -f "$work/1M.bin" ] || head -c 1048576 /dev/urandom >"$work/1M.bin"
[ -f "$work/1G.bin" ] || head -c 1073741824 /dev/urandom >"$work/1G.bin"

# measure LABEL CMD...: "<seconds> <max RSS KiB>" (best of 3 for small files, 1 run for 1 GB)
measure() {
  local runs=$1; shift
  local best="" rss=""
  for _ in $(seq "$runs"); do
    local line
    /usr/bin/time -o "$work/time.out" -f "%e %M" "$@" >/dev/null 2>&1
    line=$(tail -n 1 "$work/time.out")
    local t=${line% *} m=${line#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$best $rss"
}

echo "| file | tool | time (s) | peak RSS (MiB) | time / hash time |"
echo "| --- | --- | --- | --- | --- |"
for f in 1M 1G; do
  runs=3; [ "$f" = 1G ] && runs=1
  read -r th mh < <(measure $runs openssl dgst -sha256 "$work/$f.bin")
  row() { awk -v f="$f" -v n="$1" -v t="$2" -v m="$3" -v h="$th" 'BEGIN{printf "| %s | %s | %.3f | %.1f | %.2f |\n", f, n, t, m/1024, (h>0? t/h : 0)}'; }
  row "openssl dgst -sha256" "$th" "$mh"
  read -r t m < <(measure $runs openssl cms -sign -binary -in "$work/$f.bin" -signer "$work/cert.pem" -inkey "$work/key.pem" -outform DER -out "$work/o.p7s")
  row "openssl cms -sign (detached)" "$t" "$m"
  read -r t m < <(measure $runs openssl cms -sign -binary -nodetach -stream -in "$work/$f.bin" -signer "$work/cert.pem" -inkey "$work/key.pem" -outform DER -out "$work/o.p7m")
  row "openssl cms -sign -nodetach -stream" "$t" "$m"
  read -r t m < <(measure $runs "$bin" "$work/$f.bin" detached "$work/s.p7s")
  row "sigil CAdES detached" "$t" "$m"
  read -r t m < <(measure $runs "$bin" "$work/$f.bin" attached "$work/s.p7m")
  row "sigil CAdES attached" "$t" "$m"
done
rm -f "$work/o.p7s" "$work/o.p7m" "$work/s.p7s" "$work/s.p7m"
