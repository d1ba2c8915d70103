// cilium-lab probe: one connection attempt between two lab members, for
// policy tests that need "allowed" and "denied" as an exit code.
#include <iostream>

#include "lab/lab.h"
#include "lab/probe.h"
#include "lab/state.h"

namespace cpp::lab {
namespace {

struct Member {
  std::string netns_path;
  std::string ipv4, ipv6;
};

Member resolve(LabState& lab, const std::string& name) {
  if (auto* p = lab.find_pod(name)) return {p->netns_path(), p->ipv4, p->ipv6};
  if (auto* n = lab.find_node(name)) return {n->netns_path(), n->ipv4, n->ipv6};
  throw std::runtime_error("no pod or node named " + name + " in lab " + lab.name);
}

}  // namespace

int cmd_probe(const std::string& name, const ProbeOptions& o) {
  LabState lab = load_lab(name);
  Member from = resolve(lab, o.from);
  Member to = resolve(lab, o.to);
  std::string addr = o.ipv6 ? to.ipv6 : to.ipv4;
  if (addr.empty()) throw std::runtime_error(o.to + " has no " + (o.ipv6 ? "IPv6" : "IPv4") + " address");
  // A denied probe must not be retried for long; an allowed one may need a
  // retry on a busy machine.
  bool expect_allow = o.expect == "allow";
  int attempts = expect_allow ? 3 : 1;
  auto timeout = std::chrono::milliseconds(expect_allow ? 3000 : 1500);
  ProbeOutcome out;
  if (o.proto == "icmp") {
    out = probe_icmp(from.netns_path, addr, expect_allow ? 2 : 1, attempts);
  } else {
    EchoServer server;
    if (!server.start(to.netns_path, o.port)) throw std::runtime_error("echo server in " + o.to + ": " + server.error());
    out = o.proto == "tcp" ? probe_tcp(from.netns_path, addr, o.port, timeout, attempts)
                           : probe_udp(from.netns_path, addr, o.port, timeout, attempts);
  }
  std::string what = o.from + " -> " + o.to + " " + o.proto + (o.proto == "icmp" ? "" : "/" + std::to_string(o.port)) +
                     (o.ipv6 ? " ipv6" : " ipv4");
  std::cout << what << ": " << (out.ok ? "ALLOWED" : "DENIED") << (out.detail.empty() ? "" : " (" + out.detail + ")")
            << "\n";
  return out.ok == expect_allow ? 0 : 1;
}

}  // namespace cpp::lab
