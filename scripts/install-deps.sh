#!/usr/bin/env bash
# Installs every Debian package ciliumpp needs to build, test and run its lab.
# Idempotent: a second run installs nothing new.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
  libclang-rt-14-dev
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  libcpp-httplib-dev libssl-dev libmnl-dev libnl-3-dev libnl-route-3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  iproute2 iputils-ping procps socat iperf3 tcpdump curl jq iptables openssl
  containerd runc containernetworking-plugins busybox-static
  etcd-server etcd-client golang-etcd-server-dev golang-github-gogo-protobuf-dev
  golang-github-grpc-ecosystem-grpc-gateway-dev protobuf-compiler protobuf-compiler-grpc
  libgrpc++-dev libprotobuf-dev
  python3-grpcio python3-protobuf python3-prometheus-client python3-yaml
  frr bird2 gobgpd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# BGP peers (frr, bird2, gobgpd) are tests' daemons, started only inside cpp-
# namespaces: a policy-rc.d refusing every start keeps their package scripts
# from launching them in the root namespace.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
