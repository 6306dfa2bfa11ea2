#!/usr/bin/python3
"""Writes PDF/A-claiming test files into DIR (argv[1]): XMP metadata with pdfaid:part/conformance and
a GTS_PDFA1 output intent. The ICC profile is a stub (Debian ships no ICC file we could rely on): the
files claim PDF/A without being fully conforming, which is all the signer's PDF/A guard reads.

  pdfa2b.pdf            PDF/A-2B, RGB output intent (/N 3), attribute-form XMP
  pdfa1b.pdf            PDF/A-1B, RGB output intent, element-form XMP
  pdfa2b-cmyk.pdf       PDF/A-2B, CMYK output intent (/N 4)
  pdfa2b-nointent.pdf   PDF/A-2B without an output intent
  pdfa-hostile.pdf      a 1 MB pdfaid:part attribute value (claims nothing; must not hurt the reader)
"""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

XMP_ATTR = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" pdfaid:part="%d" pdfaid:conformance="B"/>
</rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""
XMP_ELEM = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>%d</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>
</rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def build(part, xmp, components):
    content = b"BT /F1 24 Tf 72 700 Td (PDF/A sample) Tj ET"
    objs = [
        b"<</Type /Catalog /Pages 2 0 R /Metadata 5 0 R%s>>" % (b" /OutputIntents [6 0 R]" if components else b""),
        b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
        b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R>>",
        b"<</Length %d>>\nstream\n%s\nendstream" % (len(content) + 1, content),
    ]
    meta = xmp % part
    objs.append(b"<</Type /Metadata /Subtype /XML /Length %d>>\nstream\n%s\nendstream" % (len(meta), meta))
    if components:
        icc = b"stub ICC profile: the signer reads only /N"
        objs.append(b"<</Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (test) /DestOutputProfile 7 0 R>>")
        objs.append(b"<</N %d /Length %d>>\nstream\n%s\nendstream" % (components, len(icc), icc))
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (i, o)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        pdf += b"%010d 00000 n \n" % off
    pdf += (b"trailer\n<</Size %d /Root 1 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> "
            b"<0123456789ABCDEF0123456789ABCDEF>]>>\nstartxref\n%d\n%%%%EOF\n") % (len(objs) + 1, xref)
    return pdf


for name, part, xmp, n in [("pdfa2b.pdf", 2, XMP_ATTR, 3), ("pdfa1b.pdf", 1, XMP_ELEM, 3),
                           ("pdfa2b-cmyk.pdf", 2, XMP_ATTR, 4), ("pdfa2b-nointent.pdf", 2, XMP_ATTR, 0)]:
    with open(os.path.join(out, name), "wb") as f:
        f.write(build(part, xmp, n))

HOSTILE = XMP_ATTR.replace(b'pdfaid:part="%d"', b'pdfaid:part="' + b"2" * (1 << 20) + b'"%d')
with open(os.path.join(out, "pdfa-hostile.pdf"), "wb") as f:
    f.write(build(2, HOSTILE, 3))
