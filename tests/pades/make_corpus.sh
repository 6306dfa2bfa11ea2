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
#   podofo.pdf      written by PoDoFo (podofotxt2pdf)
#   cairo.pdf       written by cairo (pdftocairo -pdf base.pdf)
# Encrypted (Standard security handler; passwords in tests/pades/encrypted_test.cpp):
#   enc-aes256-user.pdf  AES-256 (V5 R6), user "user256", owner "owner256"
#   enc-aes128.pdf       sigfield.pdf, AES-128 (V4 R4 /AESV2), empty user password, owner "owner128"
#   enc-rc4-128.pdf      sigfield.pdf, RC4-128 (V2 R3), user "user-rc4", owner "owner-rc4"
#   enc-rc4-40.pdf       RC4-40 (V1 R2), empty user password, owner "owner40"
#   enc-objstm.pdf       sigfield.pdf with object streams, AES-128 (R4), empty user password, owner "ownerobj"
#   enc-restricted.pdf   AES-256, empty user password, owner "ownerR", no annotations / no form filling
#   enc-r5.pdf           AES-256 with the deprecated R5, empty user password, owner "owner5"
#   enc-utf8-r4.pdf      AES-128 (R4), user password "Grüße" (qpdf stores it in PDFDocEncoding)
#   enc-utf8-r6.pdf      AES-256 (R6), user password "Grüße" (UTF-8)
#   enc-pubsec.pdf       /Encrypt with the /Adobe.PubSec handler (crafted, not decryptable)
#   enc-corrupt.pdf      /Encrypt /Standard with a truncated /O and /U
#   enc-dangling.pdf     trailer /Encrypt pointing to a missing object
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

# encrypted files that no tool would write: another security handler, a corrupt Standard dictionary
tid = b" /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]"
open(os.path.join(out, "enc-pubsec.pdf"), "wb").write(build(page_objs + [
    b"<</Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 /Length 128 /Recipients [<308201>]"
    b" /CF <</DefaultCryptFilter <</CFM /AESV2 /Recipients [<308201>]>>>> /StmF /DefaultCryptFilter /StrF /DefaultCryptFilter>>"],
    b" /Encrypt 8 0 R" + tid))
open(os.path.join(out, "enc-corrupt.pdf"), "wb").write(build(page_objs + [
    b"<</Filter /Standard /V 2 /R 3 /Length 128 /O (short) /U <00> /P -4>>"], b" /Encrypt 8 0 R" + tid))
open(os.path.join(out, "enc-dangling.pdf"), "wb").write(build(page_objs, b" /Encrypt 99 0 R" + tid))

open(os.path.join(out, "truncated.pdf"), "wb").write(base[: len(base) // 2])
open(os.path.join(out, "garbage.pdf"), "wb").write(os.urandom(3000))
PY
cd "$out"
qpdf base.pdf classic.pdf
qpdf --object-streams=generate base.pdf objstm.pdf
qpdf --linearize base.pdf linearized.pdf
qpdf --encrypt "" owner 256 -- base.pdf encrypted.pdf
qpdf --encrypt user256 owner256 256 -- base.pdf enc-aes256-user.pdf
qpdf --encrypt "" owner128 128 --use-aes=y -- sigfield.pdf enc-aes128.pdf
qpdf --allow-weak-crypto --encrypt user-rc4 owner-rc4 128 --use-aes=n -- sigfield.pdf enc-rc4-128.pdf
qpdf --allow-weak-crypto --encrypt "" owner40 40 -- base.pdf enc-rc4-40.pdf
qpdf --object-streams=generate --encrypt "" ownerobj 128 --use-aes=y -- sigfield.pdf enc-objstm.pdf
qpdf --encrypt "" ownerR 256 --annotate=n --form=n -- base.pdf enc-restricted.pdf
qpdf --allow-weak-crypto --encrypt "" owner5 256 --force-R5 -- base.pdf enc-r5.pdf
qpdf --encrypt "Grüße" owner-utf8 128 --use-aes=y -- base.pdf enc-utf8-r4.pdf
qpdf --encrypt "Grüße" owner-utf8 256 -- base.pdf enc-utf8-r6.pdf

# Other producers (scripts/install-deps installs both): PoDoFo's podofotxt2pdf (PDF 1.3, an embedded
# TrueType font, its own xref writer) and cairo through poppler (pdftocairo -pdf re-renders base.pdf).
printf 'Hello from PoDoFo\nA second line: Größe, Übung, €\n' >podofo.txt
podofotxt2pdf podofo.txt podofo.pdf >/dev/null
pdftocairo -pdf base.pdf cairo.pdf
