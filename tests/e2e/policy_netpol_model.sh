#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass/fail always return 0: "A && pass ... || fail ..." is safe
# The Kubernetes upstream network-policy e2e model (test/e2e/network/netpol)
# in a one-node lab: namespaces x, y, z (labelled ns=x|y|z) with pods a, b, c
# (labelled pod=a|b|c, app=web|client|db; lab pod names x-a ... z-c). For each
# case of testdata/policy/netpol-model/cases.txt (transcribed from
# tests/unit/policy/netpol_model_test.cpp): apply the case's policies
# (cilium-lab apply waits until the agent enforces them), measure the 9x9
# matrix of each probe with `cilium-lab probe-matrix` (the pods serve the
# probed port, 80 or 81, TCP and UDP, while it runs), compare it with the
# expected matrix, delete the policies (delete waits too).
#
# Usage: policy_netpol_model.sh BIN_DIR [CASE_REGEX]
#   NETPOL_FAMILIES="ipv4 ipv6" (default) runs every probe in both families.
# Prints PASS/FAIL per probe and per case (with the mismatching cells and both
# matrices), then the case counts and "N passed, N failed"; exits non-zero on
# any failure.
BIN="$(cd "${1:?usage: $0 BIN_DIR [CASE_REGEX]}" && pwd)"
FILTER="${2:-.}"
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/testdata/policy/netpol-model"
LAB="${LAB:-nm$$}"
FAMILIES="${NETPOL_FAMILIES:-ipv4 ipv6}"
# shellcheck source=policy_lib.sh
source "$HERE/policy_lib.sh"
require_tools

section "lab $LAB: namespaces x, y, z with pods a, b, c on one node"
lab up --nodes 1 --kvstore directory --bin-dir "$BIN" >/dev/null
lab apply -f "$DATA/namespaces.yaml" >/dev/null
apps=(web client db)
MEMBERS=""
for ns in x y z; do
  i=0
  for p in a b c; do
    lab pod add node1 "$ns-$p" --namespace "$ns" --labels "pod=$p,app=${apps[$i]}" \
      --ports "serve-80-tcp=80/TCP,serve-80-udp=80/UDP,serve-81-tcp=81/TCP,serve-81-udp=81/UDP" >/dev/null
    MEMBERS+="${MEMBERS:+,}$ns-$p"
    i=$((i + 1))
  done
done
echo "pods: $(lab status --json | jq -r '[.pods[] | "\(.namespace)/\(.name)=\(.ipv4)"] | join(" ")')"

# cases.txt → ordered case names, their probe lines, the skipped ones.
declare -A SKIP=() PROBES=()
CASES=()
while read -r first rest; do
  case "$first" in "" | "#"*) continue ;; esac
  if [ "$first" = skip ]; then
    read -r name reason <<<"$rest"
    SKIP[$name]=$reason
    continue
  fi
  [ -n "${PROBES[$first]+x}" ] || CASES+=("$first")
  PROBES[$first]+="$rest"$'\n'
done <"$DATA/cases.txt"

CASE_PASS=0
CASE_FAIL=0
CASE_SKIP=0
CASE_PARTIAL=()
for c in "${CASES[@]}"; do
  [[ $c =~ $FILTER ]] || continue
  section "case $c"
  if [ -n "${SKIP[$c]+x}" ]; then
    echo "SKIP: $c (${SKIP[$c]})"
    CASE_SKIP=$((CASE_SKIP + 1))
    continue
  fi
  fails_before=$FAILS
  t0=$(date +%s)
  apply_ok "$DATA/$c.yaml"
  nprobes=0
  while read -r proto_port def overrides; do
    [ -n "$proto_port" ] || continue
    proto=${proto_port%/*}
    port=${proto_port#*/}
    if [ "$proto" = sctp ]; then
      echo "NOTE: $c [$proto_port] not probed: probe-matrix speaks tcp, udp and icmp only"
      CASE_PARTIAL+=("$c ($proto_port not probed)")
      continue
    fi
    # ns/pod patterns → lab member names (x/a → x-a, x/* → x-*).
    read -ra ovs <<<"${overrides//\//-}"
    for fam in $FAMILIES; do
      expect_matrix "$c" "$proto" "$port" "$fam" "$MEMBERS" "$def" "${ovs[@]}"
      nprobes=$((nprobes + 1))
    done
  done <<<"${PROBES[$c]}"
  delete_ok "$DATA/$c.yaml"
  if [ "$FAILS" -eq "$fails_before" ]; then
    echo "CASE PASS: $c ($nprobes matrices, $(($(date +%s) - t0)) s)"
    CASE_PASS=$((CASE_PASS + 1))
  else
    echo "CASE FAIL: $c ($((FAILS - fails_before)) failed checks)"
    CASE_FAIL=$((CASE_FAIL + 1))
  fi
done

printf '\ncases: %d passed, %d failed, %d skipped (of %d)\n' "$CASE_PASS" "$CASE_FAIL" "$CASE_SKIP" "${#CASES[@]}"
for p in "${CASE_PARTIAL[@]}"; do echo "  partially run: $p"; done
for c in "${!SKIP[@]}"; do echo "  skipped: $c: ${SKIP[$c]}"; done
summary
