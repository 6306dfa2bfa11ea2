#!/usr/bin/env bash
# The Sign Service API end to end, as a portal and its signers see it: a real sigild over HTTPS.
# The portal (the demo service user's API key) creates a PDF for alice then bob; each signer logs in
# as themselves, opens their task and signs with their own credential and second factor (alice: PIN
# + a code through the `file` channel; bob: PIN). The document stays in_progress until bob signs,
# then completed; the independent validator accepts both signatures of the final PDF and rejects a
# tampered copy. Also: a detached CAdES workflow checked with OpenSSL, declines, cancels, every
# refusal with its JSON error, the webhooks, and the audit trail.
# usage: signservice_test.sh SIGILD SIGILCTL SOURCE_DIR
SIGILD="$1"; SIGILCTL="$2"; SRC="$3"
. "$SRC/tests/integration/lib.sh"
V="$SRC/../shared/validators"

I="$T/instance"
init_instance "$I" || exit 1
KEY="$(cat "$I/secrets/demo-signer.apikey")"
CRED="$(grep -m1 '^credential = ' "$I/sigil.toml" | sed 's/.*"\(.*\)"/\1/')"

start_webhook_receiver

# Notifications are signed with a shared secret (docs/webhooks.md); the checks below verify each
# one's Sigil-Signature with openssl, as a portal would.
( umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$I/secrets/portal-webhook.key" )
sed -i -e "s|^# webhook_prefixes = \[\"https://portal.example.com/hooks/\"\].*|webhook_prefixes = [\"$HOOK\"]|" \
       -e 's|^# webhook_secret = { file = "secrets/portal-webhook.key" }.*|webhook_secret = { file = "secrets/portal-webhook.key" }|' \
       -e 's|^# task_url = .*|task_url = "https://portal.example/sign/{task}"|' "$I/sigil.toml"
grep -q "^webhook_prefixes = \[\"$HOOK\"\]" "$I/sigil.toml" || { echo "sigil.toml: no [signservice] webhook_prefixes to set"; exit 1; }
grep -q '^webhook_secret = ' "$I/sigil.toml" || { echo "sigil.toml: no [signservice] webhook_secret to set"; exit 1; }
cat >>"$I/sigil.toml" <<EOF

[[profiles]]
name = "contract-cades"
format = "cades"
level = "B-T"
packaging = "detached"

[[profiles]]
name = "contract-xades"
credential = "$CRED"
format = "xades"
level = "B-B"
EOF
start_sigild "$I" || exit 1
L=("$SIGILCTL" --config "$I/sigil.toml" --local)
A_PW="$(cat "$I/secrets/alice.password")"
A_PIN="$(cat "$I/secrets/alice.pin")"

# bob: a second signer with his own P-256 key and certificate, SCAL2, PIN only.
printf 'bob-password-1234' >"$T/bob.pw"; printf '271828' >"$T/bob.pin"
"${L[@]}" user add bob --name "Bob Example" --role signer --password-file "$T/bob.pw" >"$T/setup.log" 2>&1 &&
  "${L[@]}" key generate bob-key -t ec-p256 >>"$T/setup.log" 2>&1 &&
  "${L[@]}" cert issue bob-key -s "CN=Bob Example,O=Sigil Demo" >>"$T/setup.log" 2>&1 &&
  "${L[@]}" --json credential create --owner bob --key bob-key --scal 2 --second-factor pin >"$T/bobcred.json" 2>>"$T/setup.log" ||
  { cat "$T/setup.log" "$T/bobcred.json"; exit 1; }
BOB_CRED="$(python3 -c "import json; print(json.load(open('$T/bobcred.json'))['id'])")"
"${L[@]}" credential pin "$BOB_CRED" --pin-file "$T/bob.pin" >>"$T/setup.log" 2>&1 || { cat "$T/setup.log"; exit 1; }
# carol: a signer who never gets to sign (declines).
"${L[@]}" user add carol --role signer --password-file "$T/bob.pw" >>"$T/setup.log" 2>&1 || { cat "$T/setup.log"; exit 1; }

# api METHOD PATH [curl args...]: status printed, body in $T/out.
api() {
  local method="$1" path="$2"; shift 2
  "${CURL[@]}" -o "$T/out" -w '%{http_code}' -X "$method" "$@" "$BASE/api/v1/$path"
}
field() { python3 -c "import json,sys; d=json.load(open('$T/out')); print(eval(sys.argv[1]))" "$1"; }
# expect STATUS CODE FRAGMENT GOT what...: the last answer is STATUS with the JSON error CODE.
expect() {
  local status="$1" code="$2" frag="$3" got="$4"; shift 4
  if [ "$got" = "$status" ] && python3 -c "
import json,sys; d=json.load(open('$T/out')); assert d.get('code')=='$code', d; assert sys.argv[1] in d.get('error_description',''), d" "$frag"; then
    pass "$* ($status $code)"
  else
    fail "$*: got $got $(cat "$T/out")"
  fi
}
P=(-H "Authorization: Bearer $KEY" -H 'Content-Type: application/json')
login() {  # login USER PASSWORD -> access token (CSC auth/login, scope service)
  "${CURL[@]}" -s -u "$1:$2" -H 'Content-Type: application/json' -d '{}' "$BASE/csc/v2/auth/login" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['access_token'])"
}
AT="$(login alice "$A_PW")"; BT="$(login bob bob-password-1234)"; CT="$(login carol bob-password-1234)"
ALICE=(-H "Authorization: Bearer $AT" -H 'Content-Type: application/json')
BOB=(-H "Authorization: Bearer $BT" -H 'Content-Type: application/json')
CAROL=(-H "Authorization: Bearer $CT" -H 'Content-Type: application/json')
check "alice, bob and carol log in (access tokens)" bash -c "[[ '$AT' == at_* && '$BT' == at_* && '$CT' == at_* ]]"
next_otp() { tail -n1 "$I/otp/outbox.log" | awk '{print $4}'; }
new_doc() {  # new_doc NAME PROFILE FILE SIGNERS_JSON -> JSON request in $T/new.json
  python3 - "$@" >"$T/new.json" <<'PY'
import base64, json, sys
name, profile, path, signers = sys.argv[1:5]
print(json.dumps({"name": name, "profile": profile, "signers": json.loads(signers),
                  "content": base64.b64encode(open(path, 'rb').read()).decode(), "webhook": sys.argv[5] if len(sys.argv) > 5 else None}))
PY
}

# 1. The portal creates a PDF for alice, then bob.
new_doc contract.pdf demo-pades "$I/demo/sample.pdf" '["alice", {"username": "bob"}]' "${HOOK}doc1"
code=$(api POST documents "${P[@]}" --data-binary @"$T/new.json")
check "POST /documents answers 201" test "$code" = 201
DOC="$(field "d['id']")"
check "the document is in_progress, alice ready, bob waiting" \
  test "$(field "' '.join([d['state'], d['signers'][0]['state'], d['signers'][1]['state']])")" = "in_progress ready waiting"
A_TASK="$(field "d['signers'][0]['taskId']")"; B_TASK="$(field "d['signers'][1]['taskId']")"
check "the webhook announced alice's task with its link" \
  hooks_match "h['event']=='task.ready' and h['taskId']=='$A_TASK' and h['username']=='alice' and h['taskUrl']=='https://portal.example/sign/$A_TASK' and h['documentId']=='$DOC' and h['id'].startswith('n_')"

# 2. Tasks as the signers see them.
code=$(api GET tasks "${ALICE[@]}")
check "alice's ready tasks list this document" bash -c "[ $code = 200 ] && grep -q '$A_TASK' '$T/out'"
code=$(api GET tasks "${BOB[@]}")
check "bob has no ready task yet" bash -c "[ $code = 200 ] && python3 -c \"import json; assert json.load(open('$T/out'))['tasks']==[]\""
code=$(api GET "tasks/$A_TASK" "${BOB[@]}")
expect 404 not_found "no task" "$code" "bob cannot open alice's task"
code=$(api GET "documents/$DOC" "${CAROL[@]}")
expect 404 not_found "no document" "$code" "carol (not a participant) cannot see the document"
code=$(api POST "tasks/$B_TASK/sign" "${BOB[@]}" -d '{"pin":"271828"}')
expect 400 invalid_signing_state "not your turn yet: waiting for alice" "$code" "bob cannot sign before alice"
code=$(api GET "tasks/$A_TASK/content" "${ALICE[@]}")
check "alice downloads what she is asked to sign (the original)" cmp -s "$T/out" "$I/demo/sample.pdf"

# 3. alice: code through the file channel, a wrong PIN refused, then PIN + code -> signed.
code=$(api POST "tasks/$A_TASK/challenge" "${ALICE[@]}" -d '{"credentialID":"'"$(python3 -c "print('x')")"'"}')
expect 404 not_found "no credential" "$code" "a challenge for a credential that is not alice's"
A_CRED="$("${CURL[@]}" -s -H "Authorization: Bearer $AT" -H 'Content-Type: application/json' -d '{}' "$BASE/csc/v2/credentials/list" |
  python3 -c "import json,sys; print(json.load(sys.stdin)['credentialIDs'][0])")"
code=$(api POST "tasks/$A_TASK/challenge" "${ALICE[@]}" -d "{\"credentialID\":\"$A_CRED\"}")
check "challenge delivers a code (200, delivered)" bash -c "[ $code = 200 ] && grep -q '\"delivered\":true' '$T/out'"
OTP="$(next_otp)"
code=$(api POST "tasks/$A_TASK/sign" "${ALICE[@]}" -d "{\"credentialID\":\"$A_CRED\",\"pin\":\"0000\",\"otp\":\"$OTP\"}")
check "a wrong PIN is refused with a 4xx JSON error (got $code)" \
  bash -c "[[ $code == 4* ]] && python3 -c \"import json; d=json.load(open('$T/out')); assert d['error'] and d['error_description']\""
code=$(api GET "documents/$DOC" "${P[@]}")
check "the refusal changed nothing (alice still ready, version 0)" \
  test "$(field "d['signers'][0]['state'] + ' ' + str(d['version'])")" = "ready 0"
code=$(api POST "tasks/$A_TASK/challenge" "${ALICE[@]}" -d "{\"credentialID\":\"$A_CRED\"}")
OTP="$(next_otp)"
code=$(api POST "tasks/$A_TASK/sign" "${ALICE[@]}" -d "{\"credentialID\":\"$A_CRED\",\"pin\":\"$A_PIN\",\"otp\":\"$OTP\"}")
check "alice signs (200): document in_progress at version 1, bob ready" \
  bash -c "[ $code = 200 ] && [ \"\$(python3 -c \"import json; d=json.load(open('$T/out')); print(d['state'], d['version'], d['signers'][0]['state'], d['signers'][1]['state'])\")\" = 'in_progress 1 signed ready' ]"
code=$(api POST "tasks/$A_TASK/sign" "${ALICE[@]}" -d "{\"credentialID\":\"$A_CRED\",\"pin\":\"$A_PIN\",\"otp\":\"$OTP\"}")
expect 400 invalid_signing_state "the task is signed" "$code" "alice cannot sign twice"
api GET "documents/$DOC/content" "${P[@]}" >/dev/null; cp "$T/out" "$T/after-alice.pdf"
check "after alice: validate-pades --strict --level B-T accepts her signature" \
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/after-alice.pdf"

# 4. bob (PIN only, the credential chosen for him: his only one) -> completed.
code=$(api POST "tasks/$B_TASK/sign" "${BOB[@]}" -d '{"pin":"271828"}')
check "bob signs (200): the document is completed at version 2" \
  bash -c "[ $code = 200 ] && [ \"\$(python3 -c \"import json; d=json.load(open('$T/out')); print(d['state'], d['version'], d['signers'][1]['state'], d['signers'][1]['credentialID'])\")\" = 'completed 2 signed $BOB_CRED' ]"
api GET "documents/$DOC/content" "${P[@]}" >/dev/null; cp "$T/out" "$T/final.pdf"
check "the final PDF starts with alice's version (incremental update)" \
  cmp -s -n "$(stat -c %s "$T/after-alice.pdf")" "$T/after-alice.pdf" "$T/final.pdf"
check "the final PDF: validate-pades --strict --level B-T accepts both signatures" \
  validate_strict validate-pades --level B-T --trust "$I/pki/root-ca.pem" "$T/final.pdf"
check "pdfsig lists two signatures: alice's then bob's" \
  bash -c "pdfsig '$T/final.pdf' 2>/dev/null | grep -c 'Signer Certificate Common Name' | grep -qx 2 &&
           pdfsig '$T/final.pdf' 2>/dev/null | grep 'Common Name' | tail -n1 | grep -q 'Bob Example'"
python3 - "$T/final.pdf" "$T/tampered.pdf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'Hello from Sigil')
d[i] ^= 1
open(sys.argv[2], 'wb').write(d)
PY
check "a tampered copy is rejected by the validator" \
  bash -c "! '$V/validate-pades' --quiet --trust '$I/pki/root-ca.pem' '$T/tampered.pdf'"
code=$(api GET "documents/$DOC/verification" "${P[@]}")
check "verification: valid, complete, both signatures verified against the signers' certificates" \
  python3 -c "
import json; d=json.load(open('$T/out'))
assert $code==200 and d['valid'] and d['complete'] and d['currentIntact'], d
assert [(s['username'], s['signatureValid'], s['fileIntact']) for s in d['signatures']]==[('alice',True,True),('bob',True,True)], d"
# The stored version altered on disk: the verification says so.
SPOOL="$(dirname "$(find "$I" -type d -name "$DOC" | head -n1)")"
cp "$SPOOL/$DOC/$(ls -t "$SPOOL/$DOC" | head -n1)" "$T/keep.pdf"
LAST="$SPOOL/$DOC/$(ls -t "$SPOOL/$DOC" | head -n1)"
cp "$T/tampered.pdf" "$LAST"
code=$(api GET "documents/$DOC/verification" "${P[@]}")
check "verification of a stored file altered on disk: not valid, currentIntact false" \
  python3 -c "import json; d=json.load(open('$T/out')); assert $code==200 and not d['valid'] and not d['currentIntact'], d"
cp "$T/keep.pdf" "$LAST"
check "the webhook announced bob's task" hooks_match "h['event']=='task.ready' and h['taskId']=='$B_TASK'"
check "the webhook reported the completion" hooks_match "h['event']=='document.completed' and h['documentId']=='$DOC'"
# Each notification's Sigil-Signature, recomputed with the OpenSSL command line over "<t>.<body>";
# a body altered by one byte no longer matches.
hooks_signed() {
  local n=0 sig body t v1 mac
  while IFS= read -r sig <&3 && IFS= read -r body <&4; do
    n=$((n + 1))
    t="$(sed -n 's/^t=\([0-9]*\),v1=[0-9a-f]*$/\1/p' <<<"$sig")"; v1="${sig##*v1=}"
    [ -n "$t" ] || { echo "notification $n: Sigil-Signature '$sig'"; return 1; }
    mac="$(printf '%s.%s' "$t" "$body${1-}" | openssl dgst -sha256 -hmac "$(cat "$I/secrets/portal-webhook.key")" -r | cut -d' ' -f1)"
    [ "$mac" = "$v1" ] || { echo "notification $n: HMAC $mac, header $v1"; return 1; }
    [ $(( $(date +%s) - t )) -lt 300 ] || { echo "notification $n: t=$t is old"; return 1; }
  done 3<"$T/hooks.sig" 4<"$T/hooks.log"
  [ "$n" -ge 3 ]
}
check "every notification carries a Sigil-Signature that openssl recomputes from the shared secret" hooks_signed
hooks_altered_refused() { ! hooks_signed ' ' >/dev/null; }
check "a notification body altered by one byte fails that check" hooks_altered_refused

# 5. Detached CAdES for bob and alice in one step (any order): one signature file each over the
#    unchanged original, verified with OpenSSL against the demo root; alice signs with PIN + code.
printf 'Statement of work, version 3\n' >"$T/sow.txt"
new_doc sow.txt contract-cades "$T/sow.txt" '[{"username": "bob", "step": 1}, {"username": "alice", "step": 1}]'
code=$(api POST documents "${P[@]}" --data-binary @"$T/new.json")
DOC2="$(field "d['id']")"; B2="$(field "d['signers'][0]['taskId']")"; A2="$(field "d['signers'][1]['taskId']")"
check "a detached CAdES document with one step of two signers: 201, both tasks ready" \
  bash -c "[ $code = 201 ] && grep -q '\"signatures\":\"detached\"' '$T/out' &&
           [ \"\$(python3 -c \"import json; d=json.load(open('$T/out')); print(' '.join(s['state'] for s in d['signers']))\")\" = 'ready ready' ]"
api POST "tasks/$A2/challenge" "${ALICE[@]}" -d "{\"credentialID\":\"$A_CRED\"}" >/dev/null
code=$(api POST "tasks/$A2/sign" "${ALICE[@]}" -d "{\"credentialID\":\"$A_CRED\",\"pin\":\"$A_PIN\",\"otp\":\"$(next_otp)\"}")
check "alice (listed second) signs first: still in_progress" bash -c "[ $code = 200 ] && grep -q '\"state\":\"in_progress\"' '$T/out'"
code=$(api POST "tasks/$B2/sign" "${BOB[@]}" -d '{"pin":"271828"}')
check "bob signs: completed" bash -c "[ $code = 200 ] && grep -q '\"state\":\"completed\"' '$T/out'"
for n in 1 2; do
  api GET "documents/$DOC2/signatures/$n" "${P[@]}" >/dev/null; cp "$T/out" "$T/sow.$n.p7s"
  check "signature $n verifies with openssl cms over the original" \
    openssl cms -verify -binary -inform DER -in "$T/sow.$n.p7s" -content "$T/sow.txt" -CAfile "$I/pki/root-ca.pem" -purpose any -out /dev/null
done
check "validate-cades --strict accepts bob's detached signature" \
  validate_strict validate-cades --level B-T --trust "$I/pki/root-ca.pem" --data "$T/sow.txt" "$T/sow.1.p7s"
printf 'Statement of work, version 4\n' >"$T/sow-other.txt"
check "a signature does not verify over another text" \
  bash -c "! openssl cms -verify -binary -inform DER -in '$T/sow.1.p7s' -content '$T/sow-other.txt' -CAfile '$I/pki/root-ca.pem' -purpose any -out /dev/null 2>/dev/null"
code=$(api GET "documents/$DOC2/verification" "${ALICE[@]}")
check "a signer may verify too: valid" python3 -c "import json; d=json.load(open('$T/out')); assert $code==200 and d['valid'], d"

# 6. Declines and cancels.
new_doc nda.pdf demo-pades "$I/demo/sample.pdf" '["carol", "bob"]' "${HOOK}doc3"
api POST documents "${P[@]}" --data-binary @"$T/new.json" >/dev/null
DOC3="$(field "d['id']")"; C3="$(field "d['signers'][0]['taskId']")"; B3="$(field "d['signers'][1]['taskId']")"
code=$(api POST "tasks/$C3/decline" "${CAROL[@]}" -d '{"reason":"Clause 4 is wrong"}')
check "carol declines: the document is declined, bob's task cancelled" \
  bash -c "[ $code = 200 ] && [ \"\$(python3 -c \"import json; d=json.load(open('$T/out')); print(d['state'], d['signers'][0]['state'], d['signers'][1]['state'], d['signers'][0]['reason'])\")\" = 'declined declined cancelled Clause 4 is wrong' ]"
code=$(api POST "tasks/$B3/sign" "${BOB[@]}" -d '{"pin":"271828"}')
expect 400 invalid_signing_state "is declined" "$code" "bob cannot sign a declined document"
new_doc memo.pdf demo-pades "$I/demo/sample.pdf" '["bob"]'
api POST documents "${P[@]}" --data-binary @"$T/new.json" >/dev/null
DOC4="$(field "d['id']")"; B4="$(field "d['signers'][0]['taskId']")"
code=$(api POST "documents/$DOC4/cancel" "${BOB[@]}")
expect 404 not_found "no document" "$code" "a signer cannot cancel the owner's document"
code=$(api DELETE "documents/$DOC4" "${P[@]}")
expect 400 invalid_signing_state "cancel it first" "$code" "an in-progress document cannot be deleted"
code=$(api POST "documents/$DOC4/cancel" "${P[@]}")
check "the owner cancels (200, cancelled)" bash -c "[ $code = 200 ] && grep -q '\"state\":\"cancelled\"' '$T/out'"
code=$(api POST "tasks/$B4/sign" "${BOB[@]}" -d '{"pin":"271828"}')
expect 400 invalid_signing_state "is cancelled" "$code" "a cancelled document cannot be signed"
code=$(api DELETE "documents/$DOC4" "${P[@]}")
check "the owner deletes the finished document (204)" test "$code" = 204
code=$(api GET "documents/$DOC4" "${P[@]}")
expect 404 not_found "no document" "$code" "a deleted document is gone"
check "its files are gone" bash -c "[ -z \"\$(find '$I' -type d -name '$DOC4')\" ]"

# A profile without a credential serves the Sign Service only: the one-call API and batches refuse it.
code=$("${CURL[@]}" -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $KEY" --data-binary @"$T/sow.txt" "$BASE/api/v1/sign?profile=contract-cades")
expect 400 invalid_argument "has no credential" "$code" "/api/v1/sign with a Sign Service profile"
code=$(api POST batches "${P[@]}" -d '{"profile":"contract-cades","items":[{"name":"a.txt","bytes":"YQ=="}]}')
expect 400 invalid_argument "has no credential" "$code" "a batch with a Sign Service profile"
code=$(api GET profiles "${P[@]}")
check "GET /api/v1/profiles does not list the Sign Service profile" bash -c "[ $code = 200 ] && ! grep -q contract-cades '$T/out'"

# 7. Bad requests: clear 4xx JSON errors, nothing stored.
before="$(find "$I" -path '*documents/d_*' -maxdepth 6 -type d | wc -l)"
code=$(api POST documents "${P[@]}" -d '{"name":"x.pdf","profile":"demo-pades","signers":["alice"],"content":"'"$(printf 'not a pdf' | base64)"'"}')
expect 400 invalid_document "signs PDF documents" "$code" "a PAdES document that is not a PDF"
code=$(api POST documents "${P[@]}" -d '{"name":"x.pdf","profile":"demo-pades","signers":["alice","nobody"],"content":"JVBERi0="}')
expect 400 invalid_argument "signers[1]: no active user 'nobody'" "$code" "an unknown signer"
code=$(api POST documents "${P[@]}" -d '{"name":"x.pdf","profile":"demo-pades","signers":["alice","alice"],"content":"JVBERi0="}')
expect 400 invalid_argument "already a signer" "$code" "the same signer twice"
code=$(api POST documents "${P[@]}" -d '{"name":"x.pdf","profile":"demo-pades","signers":[],"content":"JVBERi0="}')
expect 400 invalid_argument "at least one signer" "$code" "no signers"
code=$(api POST documents "${P[@]}" -d '{"name":"x.xml","profile":"contract-xades","signers":["alice"],"content":"PGEvPg=="}')
expect 400 invalid_argument "PAdES or CAdES profiles" "$code" "a XAdES profile"
code=$(api POST documents "${P[@]}" -d '{"name":"../x.pdf","profile":"demo-pades","signers":["alice"],"content":"JVBERi0="}')
expect 400 invalid_argument "name: a file name" "$code" "a path as the name"
code=$(api POST documents "${P[@]}" -d '{"name":"x.pdf","profile":"nope","signers":["alice"],"content":"JVBERi0="}')
expect 400 invalid_argument "no signing profile named 'nope'" "$code" "an unknown profile"
code=$(api POST documents "${P[@]}" -d '{"name":"x.pdf","profile":"demo-pades","signers":["alice"],"content":"%%%"}')
expect 400 invalid_argument "content is not valid base64" "$code" "content that is not base64"
code=$(api POST documents "${P[@]}" -d '{"name":"x.pdf","profile":"demo-pades","signers":["alice"],"content":"JVBERi0=","webhook":"https://evil.example/"}')
expect 400 invalid_argument "webhook" "$code" "a webhook outside the allowed prefixes"
code=$(api POST documents "${P[@]}" -d '{"name":')
check "malformed JSON: 400 with a JSON error body (got $code)" \
  bash -c "[ $code = 400 ] && python3 -c \"import json; d=json.load(open('$T/out')); assert d['error']\""
code=$(api POST documents "${ALICE[@]}" -d '{"name":"x.pdf","profile":"demo-pades","signers":["bob"],"content":"JVBERi0="}')
check "a person (not a service user) cannot create documents: 403 (got $code)" test "$code" = 403
code=$(api POST documents -H 'Content-Type: application/json' -d '{}')
check "no credentials: 401 (got $code)" test "$code" = 401
after="$(find "$I" -path '*documents/d_*' -maxdepth 6 -type d | wc -l)"
check "no refused request left files behind ($before = $after)" test "$before" = "$after"

# 8. The audit trail has every transition, and its chain verifies.
"${L[@]}" --json audit list --type 'signservice.*' --limit 100 >"$T/audit.json" 2>"$T/audit.err"
check "the trail records creates, signatures, the completion, the decline, the cancel and the delete" \
  python3 -c "
import json; recs=json.load(open('$T/audit.json'))
recs = recs.get('records', recs) if isinstance(recs, dict) else recs
types=[r['type'] if 'type' in r else r['event']['type'] for r in recs]
for t, n in [('signservice.document.create',4),('signservice.task.sign',4),('signservice.document.complete',2),
             ('signservice.task.decline',1),('signservice.document.cancel',1),('signservice.document.delete',1)]:
    assert types.count(t)==n, (t, types)
"
"${L[@]}" --json audit list --type signature.create --limit 100 >"$T/sigs.json" 2>&1
check "signature.create records name the signservice API" grep -q '"api": *"signservice"' "$T/sigs.json"
check "sigilctl audit verify: the chain is intact" "${L[@]}" audit verify
check "no PIN or code in the daemon log" bash -c "! grep -q -e '$A_PIN' -e '271828' '$I/sigild.log'"

# 9. The README's example, as written (only the port differs), from a checkout-like directory.
mkdir -p "$T/readme/main"; ln -s "$I" "$T/readme/main/var"; ln -s "$SRC/../shared" "$T/readme/shared"
sed -n '/<!-- signservice-example -->/,/^```$/p' "$SRC/README.md" | sed '1,2d;$d' | sed "s/127.0.0.1:8443/127.0.0.1:$PORT/" >"$T/readme.sh"
check "the README's Sign Service example is found" test "$(wc -l <"$T/readme.sh")" -gt 10
(cd "$T/readme/main" && bash -euo pipefail "$T/readme.sh") >"$T/readme.out" 2>&1
rc=$?
check "the README's Sign Service example runs: completed, valid, the validator agrees (exit $rc)" \
  bash -c "[ $rc = 0 ] && grep -qx completed '$T/readme.out' && grep -qx True '$T/readme.out' && grep -q '^VALID' '$T/readme.out'" ||
  cat "$T/readme.out"

finish
