#!/bin/sh
# Regenerates the checked-in seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).
# Run once from anywhere; commit the outputs. Needs openssl, /usr/bin/python3 and qpdf (through
# tests/pades/make_corpus.sh). Keys are throw-away; the outputs are small (the whole corpus stays
# well under 300 KiB). Files written by hand (JSON, XML, TOML) live next to the generated ones and
# are not touched here, except the ones listed below.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
c=$here/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$c/der" "$c/cms_parse" "$c/tsa_request" "$c/pdf" "$c/json_bounded" "$c/dss_parameters" "$c/xml" \
         "$c/toml_config"

# --- keys and certificates --------------------------------------------------------------------
cd "$tmp"
openssl ecparam -name prime256v1 -genkey -noout -out ec.key 2>/dev/null
openssl req -new -x509 -key ec.key -subj "/CN=Sigil Fuzz Signer/O=Sigil" -days 3650 -sha256 \
  -addext "keyUsage=critical,digitalSignature,nonRepudiation" -out ec.pem 2>/dev/null
openssl genrsa -out rsa.key 1024 2>/dev/null
openssl req -new -x509 -key rsa.key -subj "/CN=Sigil Fuzz RSA/O=Sigil" -days 3650 -sha256 -out rsa.pem 2>/dev/null
openssl req -new -x509 -key ec.key -subj "/CN=Sigil Fuzz TSA" -days 3650 -sha256 \
  -addext "extendedKeyUsage=critical,timeStamping" -addext "keyUsage=critical,digitalSignature" \
  -out tsa.pem 2>/dev/null
openssl x509 -in ec.pem -outform DER -out "$c/der/cert-ec.der"
openssl x509 -in rsa.pem -outform DER -out "$c/der/cert-rsa.der"
openssl x509 -in tsa.pem -outform DER -out "$c/der/cert-tsa.der"
openssl req -new -key ec.key -subj "/CN=csr" -outform DER -out "$c/der/csr.der" 2>/dev/null
openssl pkey -in ec.key -pubout -outform DER -out "$c/der/spki-ec.der"
# Hand-made edge cases: nested constructed, BOOLEAN/INTEGER/OID/times, a long-form length.
printf '\x30\x0d\x01\x01\xff\x02\x02\x00\x80\x06\x04\x2a\x86\x48\x01' > "$c/der/primitives.der"
printf '\x30\x11\x17\x0d250101000000Z' > "$c/der/utctime.der"
printf '\x18\x0f20250101000000Z' > "$c/der/gentime.der"
printf '\x04\x81\x80' > "$c/der/long-length-truncated.der"
printf '\x30\x80\x05\x00\x00\x00' > "$c/der/ber-indefinite.der"
printf '\x30\x06\x30\x04\x30\x02\x30\x00' > "$c/der/nested.der"

# --- CMS -----------------------------------------------------------------------------------------
printf 'invoice 42\n' > content.txt
openssl cms -sign -binary -in content.txt -signer ec.pem -inkey ec.key -md sha256 -nodetach -outform DER \
  -out "$c/cms_parse/attached-ec.der"
openssl cms -sign -binary -in content.txt -signer ec.pem -inkey ec.key -md sha256 -outform DER \
  -out "$c/cms_parse/detached-ec.der"
openssl cms -sign -binary -in content.txt -signer rsa.pem -inkey rsa.key -md sha256 -outform DER -nocerts \
  -out "$c/cms_parse/detached-rsa-nocerts.der"
openssl cms -sign -binary -in content.txt -signer ec.pem -inkey ec.key -signer rsa.pem -inkey rsa.key \
  -md sha384 -outform DER -out "$c/cms_parse/two-signers.der"
openssl cms -sign -binary -in content.txt -signer ec.pem -inkey ec.key -md sha256 -noattr -outform DER \
  -out "$c/cms_parse/no-signed-attrs.der"

# --- time-stamp requests (and a token, which is a CMS SignedData) -------------------------------------
openssl ts -query -data content.txt -sha256 -cert -out "$c/tsa_request/sha256-cert.tsq"
openssl ts -query -data content.txt -sha512 -no_nonce -out "$c/tsa_request/sha512-nononce.tsq"
openssl ts -query -data content.txt -sha1 -out "$c/tsa_request/sha1.tsq"
openssl ts -query -data content.txt -sha384 -tspolicy 1.3.6.1.4.1.99999.1.1 -cert -out "$c/tsa_request/policy.tsq"
openssl ts -query -data content.txt -sha256 -tspolicy 1.2.3.4 -out "$c/tsa_request/other-policy.tsq"
cat > ts.cnf <<'EOF'
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = ./serial
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
digests = sha256, sha384, sha512
ess_cert_id_alg = sha256
accuracy = secs:1
EOF
echo 01 > serial
openssl ts -reply -config ts.cnf -queryfile "$c/tsa_request/sha256-cert.tsq" -signer tsa.pem -inkey ec.key \
  -token_out -out "$c/cms_parse/timestamp-token.der" 2>/dev/null

# --- PDFs: the PAdES corpus (classic xref, xref stream, object streams, hybrid, updates, ...) -----
sh "$here/../pades/make_corpus.sh" "$tmp/pdf" >/dev/null
for f in base sigfield objstm updated docmdp hybrid truncated linearized; do
  cp "$tmp/pdf/$f.pdf" "$c/pdf/$f.pdf"
done
# A signed-looking PDF: a /Sig field whose /Contents holds the detached CMS above, /ByteRange exact.
/usr/bin/python3 - "$c/cms_parse/detached-ec.der" "$c/pdf/signed.pdf" <<'PY'
import sys
cms = open(sys.argv[1], "rb").read()
hole = 2 * 2048
objs = [
    b"<</Type /Catalog /Pages 2 0 R /AcroForm <</Fields [4 0 R] /SigFlags 3>>>>",
    b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
    b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [4 0 R]>>",
    b"<</Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /Rect [0 0 0 0] /F 132 /P 3 0 R /V 5 0 R>>",
    None,
]
data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(data))
    if o is None:
        head = b"5 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20270115080000Z) /ByteRange [0 AAAAAAAAAA BBBBBBBBBB CCCCCCCCCC] /Contents <"
        start = len(data) + len(head) - 1
        body = head + cms.hex().upper().encode().ljust(hole, b"0") + b">>>\nendobj\n"
        data += body
        end = start + hole + 2
        continue
    data += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(data)
data += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offs)
data += b"trailer\n<</Size 6 /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % x
total = len(data)
data = data.replace(b"AAAAAAAAAA", b"%-10d" % start).replace(b"BBBBBBBBBB", b"%-10d" % end) \
           .replace(b"CCCCCCCCCC", b"%-10d" % (total - end))
open(sys.argv[2], "wb").write(data)
PY

# --- DSS parameters: real certificates in the JSON ---------------------------------------------
ec_b64=$(base64 -w0 "$c/der/cert-ec.der")
rsa_b64=$(base64 -w0 "$c/der/cert-rsa.der")
cat > "$c/dss_parameters/pades-b.json" <<EOF
{"signatureLevel":"PAdES_BASELINE_B","signaturePackaging":"ENVELOPED","digestAlgorithm":"SHA256","signingCertificate":{"encodedCertificate":"$ec_b64"},"certificateChain":[{"encodedCertificate":"$ec_b64"}],"blevelParams":{"signingDate":1795000000000}}
EOF
cat > "$c/dss_parameters/request-cades-detached.json" <<EOF
{"parameters":{"signatureLevel":"CAdES_BASELINE_LTA","signaturePackaging":"DETACHED","digestAlgorithm":"SHA512","encryptionAlgorithm":"RSA","signingCertificate":{"encodedCertificate":"$rsa_b64"},"blevelParams":{"signingDate":1795000000000,"claimedSignerRoles":["approver"],"commitmentTypeIndications":["ProofOfOrigin"]}},"toSignDocument":{"bytes":"aW52b2ljZSA0Mgo=","name":"invoice.txt"}}
EOF
cat > "$c/dss_parameters/xades-enveloping.json" <<EOF
{"signatureLevel":"XAdES_BASELINE_T","signaturePackaging":"ENVELOPING","digestAlgorithm":"SHA384","encryptionAlgorithm":"ECDSA","signingCertificate":{"encodedCertificate":"$ec_b64"},"imageParameters":{"page":1,"xAxis":10,"yAxis":20,"textParameters":{"text":"signed"}}}
EOF
cat > "$c/dss_parameters/digest-document.json" <<'EOF'
{"parameters":{"signatureLevel":"CAdES_BASELINE_B","signaturePackaging":"DETACHED"},"toSignDocument":{"digestAlgorithm":"SHA256","bytes":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}
EOF
echo "corpus written to $c ($(du -sk "$c" | cut -f1) KiB)"
