#!/bin/sh
# Builds the PAdES test corpus in $1 (python3 for the hand-written files, qpdf for the variants):
#   base.pdf        PDF 1.4, classic xref, 2 pages, no AcroForm
#   classic.pdf     base rewritten by qpdf (classic xref)
#   objstm.pdf      PDF 1.5 with object streams and an xref stream (qpdf --object-streams=generate)
#   linearized.pdf  qpdf --linearize
#   sigfield.pdf    AcroForm with an empty signature field "Approval" (widget on page 1)
#   updated.pdf     base plus an earlier incremental update (new /Info)
#   docmdp.pdf      a certification (DocMDP /P 1) signature dictionary referenced from /Perms
#   encrypted.pdf   qpdf --encrypt (AES-256, empty user password)
#   truncated.pdf   the first half of base.pdf
#   garbage.pdf     random bytes
#   hybrid.pdf      PDF 1.5 hybrid-reference file: classic table + trailer /XRefStm for objects in an object stream
set -eu
out=$1
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import sys, os
out = sys.argv[1]

def build(objs, trailer_extra=b"", version=b"1.4"):
    data = b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(data))
        data += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        data += b"%010d 00000 n \n" % o
    data += b"trailer\n<</Size %d /Root 1 0 R%s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, trailer_extra, x)
    return data

content = b"BT /F1 24 Tf 72 720 Td (Hello, PAdES) Tj ET"
page_objs = [
    b"<</Type /Catalog /Pages 2 0 R>>",
    b"<</Type /Pages /Kids [3 0 R 6 0 R] /Count 2>>",
    b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources <</Font <</F1 5 0 R>>>>>>",
    b"<</Length %d>>\nstream\n" % len(content) + content + b"\nendstream",
    b"<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>",
    b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources <</Font <</F1 5 0 R>>>>>>",
    b"<</Producer (sigil corpus) /Title (base)>>",
]
base = build(page_objs, b" /Info 7 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]")
open(os.path.join(out, "base.pdf"), "wb").write(base)

sf = list(page_objs)
sf[0] = b"<</Type /Catalog /Pages 2 0 R /AcroForm 8 0 R>>"
sf[2] = b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources <</Font <</F1 5 0 R>>>> /Annots [9 0 R]>>"
sf.append(b"<</Fields [9 0 R]>>")
sf.append(b"<</Type /Annot /Subtype /Widget /FT /Sig /T (Approval) /Rect [300 100 500 160] /F 4 /P 3 0 R>>")
open(os.path.join(out, "sigfield.pdf"), "wb").write(build(sf, b" /Info 7 0 R"))

# an earlier incremental update: a new /Info
x0 = base.rindex(b"startxref")
prev = int(base[x0 + 9:].split()[0])
upd = b"8 0 obj\n<</Producer (sigil corpus) /Title (updated)>>\nendobj\n"
off = len(base)
xref_at = off + len(upd)
upd += b"xref\n8 1\n%010d 00000 n \ntrailer\n<</Size 9 /Root 1 0 R /Info 8 0 R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (off, prev, xref_at)
open(os.path.join(out, "updated.pdf"), "wb").write(base + upd)

# DocMDP P=1 (structure only: the certification signature itself is a stub)
dm = list(page_objs)
dm[0] = b"<</Type /Catalog /Pages 2 0 R /Perms <</DocMDP 8 0 R>>>>"
dm.append(b"<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /Reference [<</Type /SigRef /TransformMethod /DocMDP /TransformParams <</Type /TransformParams /P 1 /V /1.2>>>>] /Contents <00>>>")
open(os.path.join(out, "docmdp.pdf"), "wb").write(build(dm))

# hybrid-reference file (ISO 32000-1 §7.5.8.4): pages and the font in an object stream that only the
# /XRefStm stream lists; the classic table lists the rest.
import zlib
inner = {3: page_objs[2], 5: page_objs[4], 6: page_objs[5]}
hdr, body = b"", b""
for n, o in inner.items():
    hdr += b"%d %d " % (n, len(body))
    body += o + b"\n"
stm = zlib.compress(hdr + body)
h = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
offs = {}
def put(n, o):
    global h
    offs[n] = len(h)
    h += b"%d 0 obj\n" % n + o + b"\nendobj\n"
put(1, page_objs[0]); put(2, page_objs[1]); put(4, page_objs[3]); put(7, page_objs[6])
put(8, b"<</Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d>>\nstream\n" % (len(hdr), len(stm)) + stm + b"\nendstream")
xs_off = len(h)
import struct
rows = b"".join(struct.pack(">BIH", 2, 8, i) for i in range(3)) + struct.pack(">BIH", 1, xs_off, 0)
put(9, b"<</Type /XRef /Size 10 /W [1 4 2] /Index [3 1 5 2 9 1] /Length %d>>\nstream\n" % len(rows) + rows + b"\nendstream")
xt = len(h)
h += b"xref\n0 3\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \n" % (offs[1], offs[2])
h += b"4 1\n%010d 00000 n \n7 2\n%010d 00000 n \n%010d 00000 n \n" % (offs[4], offs[7], offs[8])
h += b"trailer\n<</Size 10 /Root 1 0 R /Info 7 0 R /XRefStm %d>>\nstartxref\n%d\n%%%%EOF\n" % (xs_off, xt)
open(os.path.join(out, "hybrid.pdf"), "wb").write(h)

open(os.path.join(out, "truncated.pdf"), "wb").write(base[: len(base) // 2])
open(os.path.join(out, "garbage.pdf"), "wb").write(os.urandom(3000))
PY
cd "$out"
qpdf base.pdf classic.pdf
qpdf --object-streams=generate base.pdf objstm.pdf
qpdf --linearize base.pdf linearized.pdf
qpdf --encrypt "" owner 256 -- base.pdf encrypted.pdf
