#!/usr/bin/env bash
# sigilctl end to end, locally (--local) and against a running sigild (admin REST API):
# init, doctor, token, keys, CSR, certificates, credentials, users, API keys, and clear errors.
# Usage: cli_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"

I="$T/inst"
init_instance "$I" || { fail "sigilctl init"; finish; exit 1; }
ADMIN_PW="$(sed -n 's/.*store it now): //p' "$I.init.log")"
L=("$SIGILCTL" --config "$I/sigil.toml" --local)

# expect_exit CODE description command...: the command must exit with CODE.
expect_exit() {
  local code="$1" what="$2"; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" -eq "$code" ]; then pass "$what (exit $rc)"; else fail "$what: exit $rc, wanted $code: $(cat "$T/err")"; fi
}

check "doctor passes on a fresh instance" "${L[@]}" doctor
check "token list shows the sigil token" bash -c "\"\$@\" token list | grep -q ' sigil '" _ "${L[@]}"
check "init recorded the demo certificates against their token keys" \
  bash -c "\"\$@\" key show demo-tsa | grep -q 'CN=Sigil Demo TSA'" _ "${L[@]}"
check "key generate rsa-3072" "${L[@]}" key generate alice-key --type rsa-3072
check "key generate ec-p256" "${L[@]}" key generate svc-key --type ec-p256
check "key list --json shows non-extractable keys" \
  bash -c "\"\$@\" --json key list | python3 -c 'import json,sys; k={x[\"label\"]:x for x in json.load(sys.stdin)[\"keys\"]}; assert k[\"alice-key\"][\"extractable\"] is False and k[\"alice-key\"][\"sensitive\"] is True'" _ "${L[@]}"
expect_exit 4 "duplicate key label refused" "${L[@]}" key generate alice-key
expect_exit 2 "unknown key type refused" "${L[@]}" key generate x --type rsa-1024

check "csr create" "${L[@]}" csr create alice-key --subject "CN=Alice Example,O=Example,C=EU" -o "$T/alice.csr"
check "CSR signature verifies with openssl" openssl req -in "$T/alice.csr" -verify -noout
# Issue with the demo CA's openssl-free path: the demo issuing CA key is in the token.
check "cert issue with the demo CA" "${L[@]}" cert issue alice-key --subject "CN=Alice Example,O=Example,C=EU"
"${L[@]}" cert show alice-key >"$T/alice-chain.pem"
check "issued certificate chains to the demo root" \
  openssl verify -CAfile "$I/pki/root-ca.pem" -untrusted "$I/pki/issuing-ca.pem" "$T/alice-chain.pem"
"${L[@]}" cert issue svc-key --subject "CN=Invoice Service,O=Example,C=EU" >/dev/null
"${L[@]}" cert show svc-key | openssl x509 >"$T/svc.pem"
expect_exit 51 "importing another key's certificate is refused" "${L[@]}" cert import alice-key "$T/svc.pem"
# An external CA (the validators' test PKI, plain openssl) certifies a CSR made in the token.
V="$SRC/../shared/validators"
if [ -x "$V/make-test-pki" ]; then
  "$V/make-test-pki" "$T/extpki" --tsa-port 1 --ocsp-port 2 >/dev/null 2>&1
  "${L[@]}" key generate ext-key --type ec-p384 >/dev/null
  "${L[@]}" csr create ext-key --subject "CN=External Signer,O=Example,C=EU" -o "$T/ext.csr"
  "$T/extpki/bin/issue-cert" "$T/ext.csr" "$T/ext.pem" signer >/dev/null 2>&1
  check "import a certificate issued by an external CA from our CSR" \
    "${L[@]}" cert import ext-key "$T/ext.pem" --chain "$T/extpki/inter-ca.pem"
  check "... the stored chain verifies against the external root" bash -c \
    "\"\$@\" cert show ext-key > '$T/ext-chain.pem' && openssl verify -CAfile '$T/extpki/root-ca.pem' -untrusted '$T/extpki/inter-ca.pem' '$T/ext-chain.pem'" _ "${L[@]}"
else
  fail "validators missing at $V (run scripts/install-deps)"
fi
echo "garbage" >"$T/garbage.pem"
expect_exit 50 "importing garbage is refused" "${L[@]}" cert import alice-key "$T/garbage.pem"

check "user add signer" "${L[@]}" user add carol --name "Carol Example" --email carol@example.org --role signer
check "user add service" "${L[@]}" user add invoicing --role service
expect_exit 4 "duplicate user refused" "${L[@]}" user add carol --role signer
check "credential create (signer, OTP, SCAL2)" \
  bash -c "\"\$@\" --json credential create --owner carol --key alice-key --second-factor otp > '$T/cred.json'" _ "${L[@]}"
CRED="$(python3 -c "import json; print(json.load(open('$T/cred.json'))['id'])")"
check "credential create (service, unattended)" "${L[@]}" credential create --owner invoicing --key svc-key --second-factor none --unattended
expect_exit 2 "unattended credential for a non-service user refused" \
  "${L[@]}" credential create --owner carol --key alice-key --unattended
check "credential list --owner carol" bash -c "\"\$@\" credential list --owner carol | grep -q '$CRED'" _ "${L[@]}"
check "credential assign" "${L[@]}" credential assign "$CRED" --owner invoicing
check "credential disable" bash -c "\"\$@\" --json credential disable '$CRED' | grep -q '\"disabled\"'" _ "${L[@]}"
expect_exit 3 "unknown credential" "${L[@]}" credential show cred_nope
expect_exit 31 "deleting a key in use is refused" "${L[@]}" key delete svc-key

check "user disable/enable" bash -c "\"\$@\" user disable carol && \"\$@\" user enable carol" _ "${L[@]}"
printf 'a-long-enough-password\n' >"$T/pw"
check "user passwd" "${L[@]}" user passwd carol --password-file "$T/pw"
expect_exit 2 "too short password refused" bash -c "printf 'short\n' | \"\$@\" user passwd carol --password-file -" _ "${L[@]}"

# Remote mode against sigild: Basic auth for the admin, then an API key for a second admin.
start_sigild "$I" || { fail "sigild starts"; finish; exit 1; }
R=("$SIGILCTL" --config "$I/sigil.toml")
check "remote key list with admin password" \
  bash -c "SIGIL_PASSWORD='$ADMIN_PW' \"\$@\" --user admin key list | grep -q alice-key" _ "${R[@]}"
expect_exit 10 "remote call with a wrong password" env SIGIL_PASSWORD=wrong "${R[@]}" --user admin key list
"${L[@]}" user add ops --role admin >/dev/null
KEY="$("${L[@]}" --json apikey create ops --label ci | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
check "remote user list with an API key" bash -c "SIGIL_API_KEY='$KEY' \"\$@\" user list | grep -q carol" _ "${R[@]}"
KEYID="$("${L[@]}" --json apikey list ops | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_keys"][0]["id"])')"
check "apikey revoke" "${L[@]}" apikey revoke "$KEYID"
expect_exit 10 "revoked API key refused" env SIGIL_API_KEY="$KEY" "${R[@]}" user list
"${L[@]}" user add bob --role signer >/dev/null
BOBKEY="$("${L[@]}" --json apikey create bob | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
expect_exit 11 "non-admin API key: 403" env SIGIL_API_KEY="$BOBKEY" "${R[@]}" key list
kill -TERM "$SIGILD_PID"; wait "$SIGILD_PID"; SIGILD_PID=""
expect_exit 6 "remote call with sigild down is a clear error" env SIGIL_API_KEY="$BOBKEY" "${R[@]}" key list
check "... naming the URL" grep -q "cannot reach https://127.0.0.1" "$T/err"

# Doctor explains a wrong PIN and a wrong module.
cp "$I/sigil.toml" "$T/badpin.toml"; echo "wrong-pin" >"$T/wrong.pin"
sed -i "s|^user_pin = .*|user_pin = { file = \"$T/wrong.pin\" }|" "$T/badpin.toml"
sed -i "s|^softhsm_conf = .*|softhsm_conf = \"$I/softhsm2.conf\"|; s|^dir = \"pki\".*|dir = \"$I/pki\"|" "$T/badpin.toml"
expect_exit 42 "doctor: wrong PIN" "$SIGILCTL" --config "$T/badpin.toml" doctor
check "... explained in plain words" grep -q "user PIN in hsm.user_pin is wrong" "$T/out"
sed -i "s|^module = .*|module = \"/nonexistent/libpkcs11.so\"|" "$T/badpin.toml"
expect_exit 40 "doctor: module not loadable" "$SIGILCTL" --config "$T/badpin.toml" doctor
check "... explained in plain words" grep -q "path of a PKCS#11 library" "$T/out"
expect_exit 64 "CLI usage error" "$SIGILCTL" key generate

finish
