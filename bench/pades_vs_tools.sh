#!/usr/bin/env bash
# PAdES signing of generated PDFs (default 0.1, 10 and 200 MB): wall time and peak RSS of Sigil's
# engine (bench/pades_file.cpp, B-B, invisible, software RSA-2048 key) against `pdfsig
# -add-signature` (poppler + NSS; adbe.pkcs7.detached, poppler 22.12 refuses -etsi there) and
# `podofosign`, both with the same key and SHA-256, and against `openssl dgst -sha256` of the file
# (the limit: one read and one hash). Each tool runs 3 times per size (interleaved, `sync` before
# each run); the table shows the median wall time (bash EPOCHREALTIME around the run: /usr/bin/time's
# %e has 10 ms steps) and the largest peak RSS (/usr/bin/time %M).
# Every tool's output is checked once with `pdfsig` ("Signature is Valid."), Sigil's also with
# ../shared/validators/validate-pades (integrity only, no --trust) when it is there.
# Prints a Markdown table for docs/performance.md.
# usage: bench/pades_vs_tools.sh BUILD_DIR [SIZES_MB...]      (env: WORK=dir to keep the files, RUNS=3)
set -euo pipefail
build="${1:?usage: pades_vs_tools.sh BUILD_DIR [SIZES_MB...]}"
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0.1 10 200)
runs="${RUNS:-3}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="$build/bench/sigil_pades_file"
[ -x "$bin" ] || { echo "missing $bin (build target sigil_pades_file)" >&2; exit 2; }
for t in /usr/bin/time openssl pdfsig podofosign certutil pk12util qpdf /usr/bin/python3; do
  command -v "$t" >/dev/null || { echo "missing $t (apt: time openssl poppler-utils libpodofo-utils libnss3-tools qpdf python3)" >&2; exit 3; }
done
validate="$here/../shared/validators/validate-pades"
if [ -n "${WORK:-}" ]; then work="$WORK"; mkdir -p "$work"; else work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi

# Key and self-issued certificate (RSA-2048, PKCS#1 v1.5 + SHA-256, the same key for the three
# signers), a PKCS#12 and an NSS database holding it for pdfsig (nickname "bench", no db password).
# Not P-256: with an EC key pdfsig 22.12 fails about every second run ("signDocument: unable update
# signature"): it wants the signature to fill its /Contents hole exactly, and ECDSA's length varies.
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=bench/O=Sigil" -days 2 \
  -addext keyUsage=critical,digitalSignature,nonRepudiation -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/cert.pem" -name bench -passout pass:bench -out "$work/key.p12"
rm -rf "$work/nss" && mkdir -p "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
pk12util -i "$work/key.p12" -d "sql:$work/nss" -W bench >/dev/null

# gen_pdf OUT BYTES: a valid PDF of about BYTES bytes: pages of 512 pt width, each drawing one
# uncompressed DeviceRGB image of random bytes (about 1 MB per page, the last one smaller).
gen_pdf() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
out, target = sys.argv[1], int(float(sys.argv[2]))
W, per_page = 512, 1_000_000
rows = []
left = max(target - 1000, 3 * W)
while left > 0:
    n = min(left, per_page)
    h = max(1, n // (3 * W))
    rows.append(h)
    left -= h * 3 * W + 300
objs = {}  # number -> bytes (without "n 0 obj")
npages = len(rows)
kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(npages))
objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
objs[2] = f"<< /Type /Pages /Kids [{kids}] /Count {npages} >>".encode()
for i, h in enumerate(rows):
    p, c, im = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
    objs[p] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {W} {h}] /Contents {c} 0 R "
               f"/Resources << /XObject << /Im0 {im} 0 R >> >> >>").encode()
    content = f"q {W} 0 0 {h} 0 0 cm /Im0 Do Q\n".encode()
    objs[c] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    objs[im] = (f"<< /Type /XObject /Subtype /Image /Width {W} /Height {h} /ColorSpace /DeviceRGB "
                f"/BitsPerComponent 8 /Length {W * h * 3} >>\nstream\n").encode()  # data written below
with open(out, "wb") as f:
    f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for n in sorted(objs):
        offsets[n] = f.tell()
        f.write(b"%d 0 obj\n" % n)
        f.write(objs[n])
        if (n - 5) % 3 == 0 and n >= 5:
            h = rows[(n - 5) // 3]
            f.write(os.urandom(W * h * 3))
            f.write(b"\nendstream")
        f.write(b"\nendobj\n")
    xref = f.tell()
    size = max(objs) + 1
    f.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for n in range(1, size):
        f.write(b"%010d 00000 n \n" % offsets[n])
    f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
PY
}

# measure OUTFILE CMD...: one run under /usr/bin/time; appends "<seconds> <max RSS KiB>" to OUTFILE.
measure() {
  local out=$1; shift
  sync
  local t0=$EPOCHREALTIME
  if ! /usr/bin/time -o "$work/time.out" -f "%e %M" "$@" >"$work/cmd.log" 2>&1; then
    echo "FAILED: $*" >&2; cat "$work/cmd.log" >&2; exit 1
  fi
  local t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" -v m="$(tail -n 1 "$work/time.out" | cut -d' ' -f2)" 'BEGIN{printf "%.4f %s\n", b - a, m}' >>"$out"
}
# median_t FILE / max_m FILE
median_t() { cut -d' ' -f1 "$1" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
max_m() { cut -d' ' -f2 "$1" | sort -g | tail -n 1; }

# The executable's own footprint (usage error, nothing signed): the base for "extra memory".
/usr/bin/time -o "$work/time.out" -f "%e %M" "$bin" >/dev/null 2>&1 || true
base_kib=$(tail -n 1 "$work/time.out" | cut -d' ' -f2)

verify() {  # verify LABEL FILE: pdfsig must call every signature valid (integrity; the cert is self-issued)
  if ! pdfsig -nocert "$2" 2>&1 | grep -q "Signature Validation: Signature is Valid."; then
    echo "FAILED: $1 output is not valid for pdfsig:" >&2; pdfsig -nocert "$2" >&2 || true; exit 1
  fi
}

echo "| PDF | openssl dgst -sha256 | Sigil | Sigil RSS (extra) | Sigil / dgst | pdfsig -add-signature | pdfsig RSS | pdfsig / Sigil | podofosign | podofosign RSS | podofosign / Sigil |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for mb in "${sizes[@]}"; do
  in="$work/in-$mb.pdf"
  [ -f "$in" ] || gen_pdf "$in" "$(awk -v m="$mb" 'BEGIN{printf "%d", m * 1000000}')"
  qpdf --check "$in" >"$work/qpdf.log" 2>&1 || { echo "qpdf --check failed on $in" >&2; cat "$work/qpdf.log" >&2; exit 1; }
  rm -f "$work"/t-*
  for r in $(seq "$runs"); do
    measure "$work/t-dgst" openssl dgst -sha256 -out /dev/null "$in"
    rm -f "$work/sigil.pdf"; measure "$work/t-sigil" "$bin" "$in" "$work/sigil.pdf" "$work/key.pem" "$work/cert.pem"
    rm -f "$work/pdfsig.pdf"; measure "$work/t-pdfsig" pdfsig -add-signature -nssdir "sql:$work/nss" -nick bench \
      -digest SHA256 -new-signature-field-name Signature1 "$in" "$work/pdfsig.pdf"
    rm -f "$work/podofo.pdf"; measure "$work/t-podofo" podofosign -in "$in" -out "$work/podofo.pdf" \
      -cert "$work/cert.pem" -pkey "$work/key.pem" -digest SHA256
    if [ "$r" = 1 ]; then
      verify Sigil "$work/sigil.pdf"; verify pdfsig "$work/pdfsig.pdf"; verify podofosign "$work/podofo.pdf"
      if [ -x "$validate" ]; then
        "$validate" --quiet "$work/sigil.pdf" >"$work/val.log" 2>&1 || { echo "validate-pades rejected Sigil's output:" >&2; cat "$work/val.log" >&2; exit 1; }
      fi
    fi
  done
  bytes=$(stat -c %s "$in")
  awk -v b="$bytes" -v d="$(median_t "$work/t-dgst")" \
      -v s="$(median_t "$work/t-sigil")" -v sm="$(max_m "$work/t-sigil")" -v base="$base_kib" \
      -v p="$(median_t "$work/t-pdfsig")" -v pm="$(max_m "$work/t-pdfsig")" \
      -v o="$(median_t "$work/t-podofo")" -v om="$(max_m "$work/t-podofo")" '
    function r(x, y) { return y > 0 ? sprintf("%.1f×", x / y) : "n/a" }
    BEGIN {
      size = b >= 1e6 ? sprintf("%.1f MB", b / 1e6) : sprintf("%.0f KB", b / 1e3)
      printf "| %s | %.3f s | %.3f s | %.1f MiB (+%.1f) | %s | %.3f s | %.1f MiB | %s | %.3f s | %.1f MiB | %s |\n",
        size, d, s, sm / 1024, (sm - base) / 1024, r(s, d), p, pm / 1024, r(p, s), o, om / 1024, r(o, s)
    }'
done
echo
echo "Median of $runs runs (wall clock), largest peak RSS (/usr/bin/time %M). \"extra\": Sigil's"
checked="pdfsig (all three)"; [ -x "$validate" ] && checked="$checked and validate-pades (Sigil)"
echo "peak RSS minus the same executable's when it signs nothing ($((base_kib / 1024)) MiB). Outputs checked with"
echo "$checked. Load at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
