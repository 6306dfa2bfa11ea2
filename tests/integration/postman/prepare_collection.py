#!/usr/bin/python3
"""Writes a copy of the DSS project's Postman collection that newman can run against sigild.

usage: prepare_collection.py COLLECTION.json OUT.json EXPECTED.json

* keeps the requests Sigil supports (SUPPORTED below) and drops the others (EXCLUDED, with the
  reason; docs/dss-api.md lists them too);
* points every URL at {{baseUrl}} (DSS's own "localhost:8080") and the server-signing alias
  "certificate" at {{alias}} (the demo signer's credential id);
* adds collection-level bearer authentication with {{apiKey}};
* adds a test script per request asserting the outcome Sigil should give: the DSS sample
  documents, certificates and signature values do not match Sigil's keys, so e.g. a signature
  value made by DSS's key answers 400 with a JSON error;
* adds two Sigil variants of the multiple-documents requests without an ASiC container (one
  detached XAdES signature over the documents), which Sigil supports.

EXPECTED.json maps each request name to its expected HTTP status (for the shell test).
The shared collection is never modified.
"""
import copy
import json
import sys

EXCLUDED = {
    "signature/pades-external-cms/getMessageDigest": "PAdES with an external CMS: not implemented",
    "signature/pades-external-cms/signDocument": "PAdES with an external CMS: not implemented",
    "signature/external-cms/getDataToSign": "external CMS service: not implemented",
    "signature/external-cms/signMessageDigest": "external CMS service: not implemented",
    "validation/validateSignature": "validation service: not yet",
    "certificate-validation/validateCertificate": "certificate validation service: not implemented",
    "timestamp-service/getTimestampResponse": "DSS's remote TSA service: Sigil serves RFC 3161 at POST /tsa",
    "signature/trusted-list/signDocument": "trusted-list signing: not implemented",
    "signature/trusted-list/getDataToSign": "trusted-list signing: not implemented",
    "signature/one-document/getDataToBeCounterSigned": "counter-signatures: not yet",
    "signature/one-document/counterSignSignature": "counter-signatures: not yet",
}

# name -> (status, check): check is a JavaScript body run with `j` = the parsed JSON response.
OK_DOC = "pm.expect(j.bytes).to.be.a('string').and.not.empty;"
SUPPORTED = {
    "server-signing/keys": (200, "pm.expect(j).to.be.an('array'); pm.expect(j.map(k => k.alias)).to.include(pm.environment.get('alias') || pm.variables.get('alias'));"),
    "server-signing/key/certificate": (200, "pm.expect(j.alias).to.eql(pm.variables.get('alias')); pm.expect(j.encryptionAlgo).to.eql('ECDSA'); pm.expect(j.certificate.encodedCertificate).to.be.a('string');"),
    "server-signing/sign/certificate/SHA256": (200, "pm.expect(j.algorithm).to.eql('ECDSA_SHA256'); pm.expect(j.value).to.be.a('string').and.not.empty;"),
    "server-signing/sign-digest/certificate": (200, "pm.expect(j.algorithm).to.eql('ECDSA_SHA256'); pm.expect(j.value).to.be.a('string').and.not.empty;"),
    # The demo key is EC P-256: RSASSA-PSS is not among its algorithms.
    "server-signing/sign-with-signature-algo/certificate/RSA_SSA_PSS_SHA256_MGF1": (400, "does not allow"),
    "server-signing/sign-digest-with-signature-algo/certificate/RSA_SSA_PSS_SHA256_MGF1": (400, "does not allow"),
    # XAdES enveloping (embedXML false: base64 in ds:Object) with DSS's certificate: phase 1 needs no key.
    "signature/one-document/getDataToSign": (200, OK_DOC + " pm.expect(atob(j.bytes)).to.include('<ds:SignedInfo');"),
    # DSS's signature value is over DSS's SignedInfo (other Ids): it does not verify here.
    "signature/one-document/signDocument": (400, "does not verify"),
    # DSS's own XAdES B-B (enveloping, RSA) lifted to B-T with Sigil's TSA.
    "signature/one-document/extendDocument": (200, OK_DOC + " pm.expect(j.name).to.eql('RemoteDocument-signed-xades-baseline-b-extended.xml'); pm.expect(atob(j.bytes)).to.include('SignatureTimeStamp');"),
    "signature/one-document/timestampDocument": (200, OK_DOC + " pm.expect(j.name).to.eql('sample-timestamped.pdf'); pm.expect(atob(j.bytes)).to.include('/DocTimeStamp');"),
    # DSS's samples ask for ASiC-E containers: refused with a clear 400.
    "signature/multiple-documents/getDataToSignMultiple": (400, "ASiC"),
    "signature/multiple-documents/signDocument": (400, "ASiC"),
    "signature/multiple-documents/extendDocument": (400, "ASiC"),
    "signature/multiple-documents/timestampDocument": (400, "ASiC"),
}

# Sigil variants: (new name, source request, patch of parameters, status, check).
VARIANTS = [
    ("signature/multiple-documents/getDataToSignMultiple (Sigil: detached XAdES, no ASiC)",
     "signature/multiple-documents/getDataToSignMultiple", 200,
     OK_DOC + " const si = atob(j.bytes); pm.expect(si).to.include('URI=\"test1.bin\"'); pm.expect(si).to.include('URI=\"test2.bin\"');"),
    ("signature/multiple-documents/signDocument (Sigil: detached XAdES, no ASiC)",
     "signature/multiple-documents/signDocument", 400, "does not verify"),
]


def request_name(item):
    return "/".join(item["request"]["url"]["path"][2:])


def test_script(status, check):
    lines = [
        f"pm.test('status {status}', () => pm.response.to.have.status({status}));",
        "pm.test('JSON body', () => pm.response.to.be.json);",
        "const j = pm.response.json();",
    ]
    if status >= 400:
        lines.append("pm.test('JSON error naming the problem', () => { pm.expect(j.error).to.be.a('string');"
                     f" pm.expect(j.error_description).to.include({json.dumps(check)}); }});")
    else:
        lines.append(f"pm.test('response shape', () => {{ {check} }});")
    return [{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]


def retarget(item):
    path = item["request"]["url"]["path"]
    if path[2] == "server-signing":
        path = [("{{alias}}" if p == "certificate" else p) for p in path]
    item["request"]["url"] = {"raw": "{{baseUrl}}/" + "/".join(path), "host": ["{{baseUrl}}"], "path": path}
    item["request"].pop("auth", None)  # inherit the collection's bearer auth


def sigil_variant(item, name):
    v = copy.deepcopy(item)
    v["name"] = name
    body = json.loads(v["request"]["body"]["raw"])
    body["parameters"]["asicContainerType"] = None
    body["parameters"]["signaturePackaging"] = "DETACHED"
    v["request"]["body"]["raw"] = json.dumps(body, indent=2)
    return v


def main(src, out, expected_out):
    collection = json.load(open(src))
    items = collection["item"]
    by_name = {request_name(i): i for i in items}
    unknown = set(by_name) - set(SUPPORTED) - set(EXCLUDED)
    if unknown:
        sys.exit(f"prepare_collection: requests neither supported nor excluded: {sorted(unknown)}")
    kept, expected = [], {}
    for name, (status, check) in SUPPORTED.items():
        item = copy.deepcopy(by_name[name])
        item["name"] = name
        retarget(item)
        item["event"] = test_script(status, check)
        kept.append(item)
        expected[name] = status
    for name, source, status, check in VARIANTS:
        item = sigil_variant(by_name[source], name)
        retarget(item)
        item["event"] = test_script(status, check)
        kept.append(item)
        expected[name] = status
    collection["item"] = kept
    collection["auth"] = {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiKey}}", "type": "string"}]}
    collection["info"]["name"] += " (Sigil: supported requests)"
    json.dump(collection, open(out, "w"), indent=1)
    json.dump(expected, open(expected_out, "w"), indent=1)
    print(f"prepare_collection: {len(kept)} requests kept, {len(EXCLUDED)} excluded")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
