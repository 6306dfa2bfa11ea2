#!/usr/bin/env bash
# Docs as tested artefacts: every option that `sigilctl ... --help` lists appears in docs/sigilctl.md.
# Usage: docs_test.sh SIGILCTL SOURCE_DIR
SIGILCTL="$1"; SRC="$2"
PASSED=0; FAILED=0
doc="$SRC/docs/sigilctl.md"
commands=("" init "token list" "token init" "key generate" "key list" "key show" "key delete" "csr create"
          "cert import" "cert issue" "cert show" "credential create" "credential list" "credential show"
          "credential assign" "credential disable" "credential enable" "credential pin" "user add" "user list" "user show"
          "user disable" "user enable" "user unlock" "user passwd" "user otp enrol" "user otp remove" "user second-factor"
          "user unlock-2fa" "client add" "client list" "client remove" "apikey create" "apikey list" "apikey revoke" doctor
          "audit list" "audit show" "audit export" "audit verify" sign)
for c in "${commands[@]}"; do
  # shellcheck disable=SC2086
  help="$("$SIGILCTL" $c --help 2>&1)" || { echo "FAIL: sigilctl $c --help"; FAILED=$((FAILED + 1)); continue; }
  for opt in $(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$help" | sort -u); do
    [ "$opt" = "--help" ] && continue
    if grep -qF -- "$opt" "$doc"; then PASSED=$((PASSED + 1)); else echo "FAIL: 'sigilctl $c' option $opt missing from docs/sigilctl.md"; FAILED=$((FAILED + 1)); fi
  done
  [ -z "$c" ] && continue
  if grep -qF "\`$c" "$doc" || grep -qF "$c" "$doc"; then PASSED=$((PASSED + 1)); else echo "FAIL: command '$c' missing from docs/sigilctl.md"; FAILED=$((FAILED + 1)); fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
