#!/usr/bin/env bash
# The CSC API v2 end to end, as a CSC client sees it: a real sigild over HTTPS with the instance
# `sigilctl init` makes (alice: SCAL2 credential, PIN + a one-time code delivered through the
# development `file` channel). Every signature is verified with OpenSSL against the certificate the
# API returned; every misuse gets its CSC error; the trail records the SADs.
# usage: csc_test.sh SIGILD SIGILCTL SOURCE_DIR EXAMPLE_OTP_PLUGIN_SO
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"; PLUGIN="${4:-}"
. "$SRC/tests/integration/lib.sh"
V="$SRC/../shared/validators"

I="$T/instance"
init_instance "$I" || exit 1
# Short SADs so that expiry is observable; a lock after 4 wrong second factors.
sed -i -e 's/^sad_ttl_seconds = .*/sad_ttl_seconds = 10/' \
       -e 's/^max_failures_before_lock = .*/max_failures_before_lock = 4/' "$I/sigil.toml"
start_sigild "$I" || exit 1
L=("$SIGILCTL" --config "$I/sigil.toml" --local)
B="$BASE/csc/v2"
PW="$(cat "$I/secrets/alice.password")"
PIN="$(cat "$I/secrets/alice.pin")"

# post PATH JSON [curl args...]: POST to the CSC API; body in $T/out, status printed.
post() {
  local path="$1" body="$2"; shift 2
  "${CURL[@]}" -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' "$@" -d "$body" "$B/$path"
}
field() { python3 -c "import json,sys; d=json.load(open('$T/out')); print(eval(sys.argv[1]))" "$1"; }
# expect STATUS ERROR DESCRIPTION-FRAGMENT what...: the last answer.
expect() {
  local status="$1" err="$2" frag="$3" got="$4"; shift 4
  if [ "$got" = "$status" ] && grep -q "\"error\":\"$err\"" "$T/out" && grep -q "$frag" "$T/out"; then
    pass "$* ($status $err)"
  else
    fail "$*: got $got $(cat "$T/out")"
  fi
}
digest() { printf '%s' "$1" | openssl dgst -"${2:-sha256}" -binary | base64 -w0; }
next_otp() { tail -n1 "$I/otp/outbox.log" | awk '{print $4}'; }
challenge() {  # a new one-time code for alice's credential (getChallenge), answer discarded
  post credentials/getChallenge "{\"credentialID\":\"$CRED\",\"authObjectID\":\"OTP\"}" "${A[@]}" >/dev/null
}

# 1. info (no authentication) and login.
code=$(post info '{"lang":"en-US"}')
check "info answers 200 without a token" test "$code" = 200
check "info lists signHash and the basic authType" bash -c "grep -q 'signatures/signHash' '$T/out' && grep -q '\"basic\"' '$T/out'"
check "info advertises the OAuth server (oauth2code, oauth2 base URI)" \
  bash -c "grep -q '\"oauth2code\"' '$T/out' && grep -q '\"oauth2\":\"https://127.0.0.1:$PORT/csc/v2\"' '$T/out'"
code=$(post auth/login '{}' -u "alice:wrong-password")
expect 400 authentication_error "Authentication failed" "$code" "auth/login with a wrong password"
code=$(post auth/login '{"rememberMe":true}' -u "alice:$PW")
check "auth/login (Basic) gives an access and a refresh token" test "$code" = 200
AT="$(field "d['access_token']")"
RT="$(field "d['refresh_token']")"
A=(-H "Authorization: Bearer $AT")

# 2. list and info.
code=$(post credentials/list '{"credentialInfo":true,"certificates":"chain","certInfo":true,"authInfo":true}' "${A[@]}")
check "credentials/list answers 200" test "$code" = 200
CRED="$(field "d['credentialIDs'][0]")"
check "alice's credential is listed with PIN AND OTP" bash -c "grep -q 'PIN AND OTP' '$T/out'"
code=$(post credentials/info "{\"credentialID\":\"$CRED\",\"certificates\":\"chain\",\"certInfo\":true,\"authInfo\":true}" "${A[@]}")
check "credentials/info answers 200 with SCAL 2" bash -c "[ $code = 200 ] && grep -q '\"SCAL\":\"2\"' '$T/out'"
field "d['cert']['certificates'][0]" | base64 -d | openssl x509 -inform DER -out "$T/alice.pem"
field "d['cert']['certificates'][1]" | base64 -d | openssl x509 -inform DER -out "$T/issuing.pem"
check "the returned chain verifies to the demo root" \
  openssl verify -CAfile "$I/pki/root-ca.pem" -untrusted "$T/issuing.pem" "$T/alice.pem"
openssl x509 -in "$T/alice.pem" -pubkey -noout >"$T/alice.pub"

# 3. SCAL2, explicit: getChallenge (code through the file channel) -> authorize (PIN + OTP, the
#    hashes) -> signHash -> OpenSSL verifies each signature against the returned certificate.
printf 'contract A' >"$T/a.txt"; printf 'contract B' >"$T/b.txt"
HA="$(openssl dgst -sha256 -binary "$T/a.txt" | base64 -w0)"; HB="$(openssl dgst -sha256 -binary "$T/b.txt" | base64 -w0)"
code=$(post credentials/getChallenge "{\"credentialID\":\"$CRED\",\"authObjectID\":\"OTP\"}" "${A[@]}")
check "getChallenge delivers a code (204)" test "$code" = 204
OTP="$(next_otp)"
check "the file channel received a 6-digit code" bash -c "[[ '$OTP' =~ ^[0-9]{6}$ ]]"
AUTHZ="{\"credentialID\":\"$CRED\",\"numSignatures\":2,\"hashes\":[\"$HA\",\"$HB\"],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\""
code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"$OTP\"}]}" "${A[@]}")
check "authorize with PIN + OTP gives a SAD" test "$code" = 200
SAD="$(field "d['SAD']")"
code=$(post signatures/signHash "{\"credentialID\":\"$CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$HA\",\"$HB\"],\"signAlgo\":\"1.2.840.10045.4.3.2\"}" "${A[@]}")
check "signHash signs both hashes" test "$code" = 200
field "d['signatures'][0]" | base64 -d >"$T/a.sig"
field "d['signatures'][1]" | base64 -d >"$T/b.sig"
check "signature 1 verifies with openssl against the returned certificate" \
  openssl dgst -sha256 -verify "$T/alice.pub" -signature "$T/a.sig" "$T/a.txt"
check "signature 2 verifies with openssl against the returned certificate" \
  openssl dgst -sha256 -verify "$T/alice.pub" -signature "$T/b.sig" "$T/b.txt"
check "signature 1 does not verify for the other document" \
  bash -c "! openssl dgst -sha256 -verify '$T/alice.pub' -signature '$T/a.sig' '$T/b.txt' >/dev/null 2>&1"
check "validate-raw-signature agrees" "$V/validate-raw-signature" --quiet --cert "$T/alice.pem" --alg ecdsa --md sha256 \
  --data "$T/a.txt" --sig-b64 "$(base64 -w0 "$T/a.sig")"
code=$(post signatures/signHash "{\"credentialID\":\"$CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$HA\"],\"signAlgo\":\"1.2.840.10045.4.3.2\"}" "${A[@]}")
expect 400 invalid_request "Invalid parameter SAD" "$code" "a used-up SAD is refused"

# 3b. signatures/signDoc: alice authorises the sample PDF itself (SCAL2: the SAD is bound to the
#     document's hash), sigild returns it signed as PAdES B-T; the independent validator agrees.
HP="$(openssl dgst -sha256 -binary "$I/demo/sample.pdf" | base64 -w0)"
challenge
code=$(post credentials/authorize "{\"credentialID\":\"$CRED\",\"numSignatures\":1,\"hashes\":[\"$HP\"],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\",\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"$(next_otp)\"}]}" "${A[@]}")
SAD="$(field "d.get('SAD','')")"
printf '{"credentialID":"%s","SAD":"%s","documents":[{"document":"%s","signature_format":"P","conformance_level":"Ades-B-T","signAlgo":"1.2.840.10045.4.3.2","signed_envelope_property":"Detached"}]}' \
  "$CRED" "$SAD" "$(base64 -w0 "$I/demo/sample.pdf")" >"$T/signdoc-bad.json"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' "${A[@]}" --data-binary @"$T/signdoc-bad.json" "$B/signatures/signDoc")
check "signDoc refuses what it cannot do (a detached PAdES) with 400, before spending the SAD" test "$code" = 400
sed 's/"Detached"/"Certification"/' "$T/signdoc-bad.json" >"$T/signdoc.json"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' "${A[@]}" --data-binary @"$T/signdoc.json" "$B/signatures/signDoc")
check "signDoc signs the PDF as a certification signature (200)" test "$code" = 200
field "d['DocumentWithSignature'][0]" | base64 -d >"$T/alice-signed.pdf"
check "alice's PDF passes validate-pades --strict --level B-T" \
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/alice-signed.pdf"
# qpdf reads the certification: the catalog's /Perms /DocMDP names the signature, with /P 2.
docmdp=$(qpdf --json --json-key=qpdf "$T/alice-signed.pdf" | python3 -c "
import json,sys
j=json.load(sys.stdin)['qpdf'][1]
o=lambda r: j['obj:'+r]['value']
cat=o(j['trailer']['value']['/Root'])
p=cat.get('/Perms'); p=o(p) if isinstance(p,str) else p
sig=o(p['/DocMDP']); ref=sig['/Reference'][0]; ref=o(ref) if isinstance(ref,str) else ref
print(ref['/TransformMethod'], ref['/TransformParams']['/P'])")
check "the signed PDF is certified (DocMDP P=2): $docmdp" test "$docmdp" = "/DocMDP 2"
# P=2 allows no new signature field: the demo profile (a new visible field) is refused with 409 and the rule.
code=$("${CURL[@]}" -o "$T/locked.json" -w '%{http_code}' -H "Authorization: Bearer $(cat "$I/secrets/demo-signer.apikey")" \
  --data-binary @"$T/alice-signed.pdf" "$BASE/api/v1/sign?profile=demo-pades")
check "signing the certified PDF in a new field: 409 document_locked naming DocMDP P=2" \
  python3 -c "import json;d=json.load(open('$T/locked.json'));assert '$code'=='409' and d['code']=='document_locked' and 'P=2' in d['error_description'], d"
python3 - "$T/alice-signed.pdf" "$T/alice-tampered.pdf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'Hello from Sigil')
d[i] ^= 1
open(sys.argv[2], 'wb').write(d)
PY
check "a tampered copy is rejected" bash -c "! '$V/validate-pades' --quiet --trust '$I/pki/root-ca.pem' '$T/alice-tampered.pdf'"

# 4. SAD misuse.
authorize() {  # authorize HASH... -> SAD in $SAD (new challenge each time)
  challenge
  local hashes; hashes="$(printf '"%s",' "$@")"
  code=$(post credentials/authorize "{\"credentialID\":\"$CRED\",\"numSignatures\":$#,\"hashes\":[${hashes%,}],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\",\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"$(next_otp)\"}]}" "${A[@]}")
  SAD="$(field "d.get('SAD','')")"
}
authorize "$HA"
HX="$(digest other)"
code=$(post signatures/signHash "{\"credentialID\":\"$CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$HX\"],\"signAlgo\":\"1.2.840.10045.4.3.2\"}" "${A[@]}")
expect 400 invalid_request "not authorized" "$code" "a hash the SAD was not given for is refused"
code=$(post signatures/signHash "{\"credentialID\":\"$CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$HA\",\"$HA\"],\"signAlgo\":\"1.2.840.10045.4.3.2\"}" "${A[@]}")
check "more hashes than numSignatures are refused (400)" test "$code" = 400
code=$(post signatures/signHash "{\"credentialID\":\"$CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$HA\"],\"signAlgo\":\"1.2.840.113549.1.1.11\"}" "${A[@]}")
expect 400 invalid_request "signAlgo" "$code" "an algorithm the EC key cannot do (RSA) is refused"
DEMO_CRED="$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"
code=$(post signatures/signHash "{\"credentialID\":\"$DEMO_CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$HA\"],\"signAlgo\":\"1.2.840.10045.4.3.2\"}" "${A[@]}")
expect 400 invalid_request "credentialID" "$code" "another user's credential is refused"
sleep 11
code=$(post signatures/signHash "{\"credentialID\":\"$CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$HA\"],\"signAlgo\":\"1.2.840.10045.4.3.2\"}" "${A[@]}")
expect 400 invalid_request "SAD expired" "$code" "an expired SAD is refused"

# 5. Wrong second factors: N=3 void the transaction, M=4 lock the user; the admin lifts the lock.
challenge
GOOD_OTP="$(next_otp)"
code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"000000\"},{\"id\":\"OTP\",\"value\":\"$GOOD_OTP\"}]}" "${A[@]}")
expect 400 invalid_authentication_data "invalid" "$code" "a wrong PIN is refused"
code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"000000\"}]}" "${A[@]}")
expect 400 invalid_authentication_data "invalid" "$code" "a wrong OTP is refused"
code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"000001\"}]}" "${A[@]}")
code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"$GOOD_OTP\"}]}" "${A[@]}")
check "after 3 wrong attempts the transaction is void, even for the right code (400)" \
  bash -c "[ $code = 400 ] && ! grep -q SAD '$T/out'"
challenge
code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"999999\"},{\"id\":\"OTP\",\"value\":\"$(next_otp)\"}]}" "${A[@]}")
challenge
code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"$(next_otp)\"}]}" "${A[@]}")
expect 400 invalid_request "locked" "$code" "the 4th wrong attempt locked the user: the right PIN and code are refused"
check "sigilctl user second-factor shows the lock" bash -c "\"\$@\" user second-factor alice | grep -q 'locked_until.*20'" _ "${L[@]}"
check "sigilctl user unlock-2fa lifts it" "${L[@]}" user unlock-2fa alice
authorize "$HA"
check "after the unlock alice authorises again" test "$code" = 200

# 6. Tokens: missing, revoked, refresh rotation; malformed JSON; oversized batches.
code=$(post credentials/list '{}')
expect 401 invalid_request "authorization" "$code" "no token: 401"
code=$(post credentials/list '{' "${A[@]}")
check "malformed JSON: 400 with a JSON error body" bash -c "[ $code = 400 ] && grep -q '\"error\"' '$T/out'"
many="$(python3 -c "print(','.join(['\"$HA\"']*101))")"
code=$(post credentials/authorize "{\"credentialID\":\"$CRED\",\"numSignatures\":101,\"hashes\":[$many],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\"}" "${A[@]}")
check "numSignatures above multisign is refused (400)" bash -c "[ $code = 400 ] && grep -q 'numSignatures\|too high' '$T/out'"
head -c 70000000 /dev/zero | tr '\0' 'a' >"$T/big.json"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' "${A[@]}" --data-binary @"$T/big.json" "$B/signatures/signHash")
check "a body over max_body_bytes: 413 with a JSON error body" bash -c "[ $code = 413 ] && grep -q '\"error\"' '$T/out'"
code=$(post auth/login "{\"refresh_token\":\"$RT\"}")
check "a refresh token logs in again (rotation)" test "$code" = 200
code=$(post auth/login "{\"refresh_token\":\"$RT\"}")
check "the rotated refresh token is refused" test "$code" = 400
code=$(post credentials/list '{}' "${A[@]}")
expect 401 invalid_token "" "$code" "a rotated refresh token presented again revoked its grant: the access token is refused"
post auth/login '{}' -u "alice:$PW" >/dev/null
A2=(-H "Authorization: Bearer $(field "d['access_token']")")
code=$(post auth/revoke "{\"token\":\"$(field "d['access_token']")\"}" "${A2[@]}")
check "auth/revoke answers 204" test "$code" = 204
code=$(post credentials/list '{}' "${A2[@]}")
expect 401 invalid_token "" "$code" "a revoked token is refused"
# An administrator disabling a user, or setting their password, ends the user's sessions at once:
# within auth.cache_ms too (the CSC API reads tokens through a short cache), and for good (enabling
# the user again does not bring the old token back).
ADMIN_PW="$(sed -n 's/.*store it now): //p' "$I.init.log")"
ADM=(-u "admin:$ADMIN_PW" -H 'Content-Type: application/json')
printf 'eve-password-1234\n' >"$T/eve.pw"
"${L[@]}" user add eve --role signer --password-file "$T/eve.pw" >/dev/null
post auth/login '{}' -u "eve:eve-password-1234" >/dev/null
AE=(-H "Authorization: Bearer $(field "d['access_token']")")
code=$(post credentials/list '{}' "${AE[@]}")
check "eve's token lists her credentials (and is now in the token cache)" test "$code" = 200
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "${ADM[@]}" -X POST "$BASE/api/admin/v1/users/eve/disable")
check "the admin API disables eve" test "$code" = 200
code=$(post credentials/list '{}' "${AE[@]}")
expect 401 invalid_token "" "$code" "disabling a user revokes their tokens at once (not after the cache)"
"${CURL[@]}" -o /dev/null "${ADM[@]}" -X POST "$BASE/api/admin/v1/users/eve/enable"
code=$(post credentials/list '{}' "${AE[@]}")
expect 401 invalid_token "" "$code" "enabling eve again does not bring the revoked token back"
post auth/login '{}' -u "eve:eve-password-1234" >/dev/null
AE=(-H "Authorization: Bearer $(field "d['access_token']")")
code=$(post credentials/list '{}' "${AE[@]}")
check "eve signs in again after being enabled" test "$code" = 200
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "${ADM[@]}" -X PUT -d '{"password":"eve-new-password-5678"}' \
  "$BASE/api/admin/v1/users/eve/password")
check "the admin API sets eve's password" test "$code" = 204
code=$(post credentials/list '{}' "${AE[@]}")
expect 401 invalid_token "" "$code" "a password set by an administrator revokes the user's tokens"

# 7. The trail: authorisations, SAD use and refusals, the lock, the signatures.
"$SIGILCTL" --config "$I/sigil.toml" --local audit list --limit 1000 >"$T/audit.txt" 2>&1
for t in otp.sent sad.issued sad.used sad.refused auth.second_factor_failed auth.transaction_voided auth.lockout \
         admin.user.second_factor_unlock signature.create; do
  check "audit trail has $t" grep -q "$t" "$T/audit.txt"
done
check "no PIN or code in the trail" bash -c "! grep -q -- '$PIN' '$T/audit.txt'"
check "audit chain verifies" "${L[@]}" audit verify

# 8. OAuth 2.0: the authorization code flow with PKCE through the login page (a browser, played by
#    curl with a cookie jar), then client_credentials for a service user.
"${L[@]}" --json client add "Portal" --redirect-uri "https://portal.example/cb" >"$T/client.json"
CID="$(python3 -c "import json; print(json.load(open('$T/client.json'))['client_id'])")"
CSECRET="$(python3 -c "import json; print(json.load(open('$T/client.json'))['client_secret'])")"
check "sigilctl client add registers a confidential client" bash -c "[[ '$CID' == cl_* && '$CSECRET' == cs_* ]]"
VERIFIER="$(head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
CHALLENGE="$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '=')"
Q="response_type=code&client_id=$CID&redirect_uri=https%3A%2F%2Fportal.example%2Fcb&scope=service&code_challenge=$CHALLENGE&code_challenge_method=S256&state=xyz42"
code=$("${CURL[@]}" -o "$T/page.html" -w '%{http_code}' -c "$T/jar" "$B/oauth2/authorize?$Q")
check "oauth2/authorize shows the login page" bash -c "[ $code = 200 ] && grep -q 'name=\"password\"' '$T/page.html'"
python3 - "$T/page.html" "$PW" >"$T/form" <<'PY'
import html, re, sys, urllib.parse
page = open(sys.argv[1]).read()
fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)}
fields.update(username="alice", password=sys.argv[2])
print(urllib.parse.urlencode(fields), end="")
PY
code=$("${CURL[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' -b "$T/jar" --data-binary @"$T/form" \
  -H 'Content-Type: application/x-www-form-urlencoded' "$B/oauth2/authorize")
check "the login form redirects to the client with a code and the state" \
  bash -c "[[ '$code' == '302 https://portal.example/cb?'*code=*state=xyz42* ]]"
ACODE="$(sed 's/.*code=\([^&]*\).*/\1/' <<<"$code")"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -u "$CID:$CSECRET" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$ACODE" --data-urlencode redirect_uri=https://portal.example/cb \
  --data-urlencode "code_verifier=wrong-$VERIFIER" "$B/oauth2/token")
check "a wrong PKCE verifier is refused (400 invalid_grant)" bash -c "[ $code = 400 ] && grep -q invalid_grant '$T/out'"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' -b "$T/jar" --data-binary @"$T/form" \
  -H 'Content-Type: application/x-www-form-urlencoded' "$B/oauth2/authorize")
ACODE="$(sed 's/.*code=\([^&]*\).*/\1/' <<<"$code")"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -u "$CID:$CSECRET" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$ACODE" --data-urlencode redirect_uri=https://portal.example/cb \
  --data-urlencode "code_verifier=$VERIFIER" "$B/oauth2/token")
check "the code and the verifier give an access token" test "$code" = 200
OAT="$(field "d['access_token']")"
code=$(post credentials/list '{}' -H "Authorization: Bearer $OAT")
check "the OAuth access token lists alice's credentials" bash -c "[ $code = 200 ] && grep -q '$CRED' '$T/out'"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -u "$CID:$CSECRET" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$ACODE" --data-urlencode redirect_uri=https://portal.example/cb \
  --data-urlencode "code_verifier=$VERIFIER" "$B/oauth2/token")
check "a code used twice is refused" test "$code" = 400
code=$(post credentials/list '{}' -H "Authorization: Bearer $OAT")
check "... and the tokens it gave are revoked" test "$code" = 401
"${L[@]}" --json client add "Invoicing" --service-user demo-signer >"$T/svc.json"
SID="$(python3 -c "import json; print(json.load(open('$T/svc.json'))['client_id'])")"
SSECRET="$(python3 -c "import json; print(json.load(open('$T/svc.json'))['client_secret'])")"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -u "$SID:$SSECRET" --data-urlencode grant_type=client_credentials "$B/oauth2/token")
check "client_credentials gives the service user a token" test "$code" = 200
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $(field "d['access_token']")" "$BASE/api/v1/whoami")
check "... which the daemon accepts as demo-signer" bash -c "[ $code = 200 ] && grep -q '\"name\":\"demo-signer\"' '$T/out'"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -u "$SID:wrong" --data-urlencode grant_type=client_credentials "$B/oauth2/token")
check "a wrong client secret: 401 invalid_client" bash -c "[ $code = 401 ] && grep -q invalid_client '$T/out'"
check "sigilctl client list shows both clients" bash -c "\"\$@\" client list | grep -q Invoicing" _ "${L[@]}"
check "sigilctl client remove" "${L[@]}" client remove "$SID"

# 9. mTLS for service users: with [auth] client_cert_users, a client certificate (from the CA in
#    server.tls.client_ca_file) whose CN is a service user's name authenticates as that user.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Test Client CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$T/cca.key" -out "$T/cca.pem" 2>/dev/null
for cn in demo-signer alice nobody; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn/O=Example" \
    -keyout "$T/$cn.key" -out "$T/$cn.csr" 2>/dev/null
  openssl x509 -req -in "$T/$cn.csr" -CA "$T/cca.pem" -CAkey "$T/cca.key" -CAcreateserial -days 1 \
    -extfile <(printf 'extendedKeyUsage=clientAuth\n') -out "$T/$cn.pem" 2>/dev/null
done
sed -i -e "s|^# client_ca_file = .*|client_ca_file = \"$T/cca.pem\"|" -e 's/^client_certs = "none"/client_certs = "optional"/' \
       -e 's/^client_cert_users = false/client_cert_users = true/' "$I/sigil.toml"
restart_sigild "$I" || exit 1
B="$BASE/csc/v2"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' --cert "$T/demo-signer.pem" --key "$T/demo-signer.key" "$BASE/api/v1/whoami")
check "a client certificate with CN=demo-signer authenticates as the service user" \
  bash -c "[ $code = 200 ] && grep -q '\"name\":\"demo-signer\"' '$T/out'"
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' --cert "$T/alice.pem" --key "$T/alice.key" "$BASE/api/v1/whoami")
check "a client certificate naming a person (not a service user) is refused (401)" test "$code" = 401
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' --cert "$T/nobody.pem" --key "$T/nobody.key" "$BASE/api/v1/whoami")
check "a client certificate naming nobody is refused (401)" test "$code" = 401
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' "$BASE/api/v1/whoami")
check "no certificate and no header: 401" test "$code" = 401
"$SIGILCTL" --config "$I/sigil.toml" --local --json audit list --type auth.success --limit 1000 >"$T/audit2.txt" 2>&1
check "the certificate login is audited with its fingerprint" grep -q "client_certificate" "$T/audit2.txt"

# 10. A third-party OTP provider: the example plugin (built as a .so against the C ABI only) loads
#     from [otp] plugin_dir at startup and checks alice's one-time codes; no rebuild of sigild.
if [ -n "$PLUGIN" ] && [ -f "$PLUGIN" ]; then
  mkdir -m 0755 "$T/plugins"; install -m 0755 "$PLUGIN" "$T/plugins/example.so"
  sed -i -e "s|^# plugin_dir = .*|plugin_dir = \"$T/plugins\"|" -e 's/^otp_provider = .*/otp_provider = "example"/' "$I/sigil.toml"
  printf '\n[[otp.plugins]]\nname = "example"\nconfig = "%s"\n' "$T/plugin-outbox.log" >>"$I/sigil.toml"
  restart_sigild "$I" || exit 1
  B="$BASE/csc/v2"
  check "sigild loaded the plugin at startup" grep -q "otp plugin 'example'" "$I/sigild.log"
  post auth/login '{}' -u "alice:$PW" >/dev/null
  A=(-H "Authorization: Bearer $(field "d['access_token']")")
  challenge
  code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"123456\"}]}" "${A[@]}")
  expect 400 invalid_authentication_data "invalid" "$code" "the plugin provider refuses a wrong code"
  code=$(post credentials/authorize "$AUTHZ,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"424242\"}]}" "${A[@]}")
  check "the plugin provider accepts its code: a SAD" bash -c "[ $code = 200 ] && grep -q SAD '$T/out'"
else
  fail "the example OTP plugin was not built ($PLUGIN)"
fi

finish
