// cilium-lab probe-matrix: every from -> to probe among a set of lab members
// (pods or nodes), run concurrently, printed as a reachability matrix like the
// Kubernetes network-policy e2e's ("." allowed, "X" denied; rows = from,
// cols = to).
//
// Timing: each cell is ONE attempt with a short timeout (default 1000 ms), all
// cells at once, so a matrix takes about one timeout whatever its size. An
// allowed cell answers in milliseconds; a denied cell always costs the full
// timeout (a policy drop is silent: no RST, no ICMP error), so the timeout is
// the floor of the run time as soon as one cell is denied. A larger
// --timeout-ms or --attempts makes allowed cells more robust on a loaded
// machine at the price of slower denied cells.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "lab/lab.h"
#include "lab/probe.h"
#include "lab/state.h"
#include "netlink/netns.h"

namespace cpp::lab {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Member {
  std::string name;
  std::string netns_path;
  std::string addr;  // of the requested family
};

struct Cell {
  size_t from, to;
  ProbeOutcome out;
};

std::vector<std::string> split_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      std::string s = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!s.empty()) out.push_back(s);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

int cmd_probe_matrix(const std::string& name, const ProbeMatrixOptions& o) {
  const char* me = "cilium-lab probe-matrix";
  std::vector<std::string> names = split_list(o.pods);
  if (names.empty()) {
    std::cerr << me << ": --pods needs at least one pod or node name\n";
    return 2;
  }
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = i + 1; j < names.size(); ++j)
      if (names[i] == names[j]) {
        std::cerr << me << ": " << names[i] << " is listed twice\n";
        return 2;
      }
  if (o.timeout_ms < 1 || o.attempts < 1) {
    std::cerr << me << ": --timeout-ms and --attempts must be positive\n";
    return 2;
  }

  // --extra NAME=NETNS_PATH,IPV4[,IPV6]: a namespace the caller made outside
  // the lab (a test's "world"), usable as a member name.
  std::map<std::string, std::vector<std::string>> extras;
  for (const auto& e : o.extra) {
    auto eq = e.find('=');
    std::vector<std::string> parts = split_list({eq == std::string::npos ? "" : e.substr(eq + 1)});
    if (eq == std::string::npos || eq == 0 || parts.size() < 2 || parts.size() > 3 || parts[0].rfind("/", 0) != 0) {
      std::cerr << me << ": --extra \"" << e << "\" is not NAME=NETNS_PATH,IPV4[,IPV6]\n";
      return 2;
    }
    extras[e.substr(0, eq)] = parts;
  }

  LabState lab = load_lab(name);
  std::vector<Member> members;
  for (const auto& n : names) {
    Member m{n, "", ""};
    if (auto it = extras.find(n); it != extras.end()) {
      m.netns_path = it->second[0];
      m.addr = o.ipv6 ? (it->second.size() > 2 ? it->second[2] : "") : it->second[1];
    } else if (auto* p = lab.find_pod(n)) {
      m.netns_path = p->netns_path();
      m.addr = o.ipv6 ? p->ipv6 : p->ipv4;
    } else if (auto* nd = lab.find_node(n)) {
      m.netns_path = nd->netns_path();
      m.addr = o.ipv6 ? nd->ipv6 : nd->ipv4;
    } else {
      std::cerr << me << ": no pod or node named " << n << " in lab " << name << "\n";
      return 2;
    }
    if (m.addr.empty()) {
      std::cerr << me << ": " << n << " has no " << (o.ipv6 ? "IPv6" : "IPv4") << " address\n";
      return 2;
    }
    // Every probe enters the source namespace: make sure each one can be opened.
    try {
      (void)NetnsHandle::open_path(m.netns_path);
    } catch (const std::exception& e) {
      std::cerr << me << ": " << n << ": " << e.what() << "\n";
      return 2;
    }
    members.push_back(std::move(m));
  }

  // One echo server per destination, forked before any thread exists.
  std::vector<std::unique_ptr<EchoServer>> servers;
  if (o.proto != "icmp") {
    for (const auto& m : members) {
      auto s = std::make_unique<EchoServer>();
      if (!s->start(m.netns_path, o.port)) {
        std::cerr << me << ": echo server in " << m.name << " on port " << o.port << ": " << s->error() << "\n";
        return 2;
      }
      servers.push_back(std::move(s));
    }
  }

  std::vector<Cell> cells;
  for (size_t f = 0; f < members.size(); ++f)
    for (size_t t = 0; t < members.size(); ++t) cells.push_back({f, t, {}});

  auto timeout = std::chrono::milliseconds(o.timeout_ms);
  int icmp_wait_s = std::max(1, (o.timeout_ms + 999) / 1000);  // ping -W takes whole seconds
  auto start = Clock::now();
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  size_t nworkers = std::min<size_t>(cells.size(), 256);
  for (size_t w = 0; w < nworkers; ++w)
    workers.emplace_back([&] {
      for (size_t i = next++; i < cells.size(); i = next++) {
        Cell& c = cells[i];
        const Member& from = members[c.from];
        const Member& to = members[c.to];
        if (o.proto == "tcp")
          c.out = probe_tcp(from.netns_path, to.addr, o.port, timeout, o.attempts);
        else if (o.proto == "udp")
          c.out = probe_udp(from.netns_path, to.addr, o.port, timeout, o.attempts);
        else
          c.out = probe_icmp(from.netns_path, to.addr, icmp_wait_s, o.attempts);
      }
    });
  for (auto& t : workers) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();

  // A member reaching itself goes over its own loopback, never through the
  // datapath: a failed diagonal cell means the probe machinery (echo server,
  // namespace) is broken, not a policy verdict.
  std::vector<std::string> broken;
  for (const auto& c : cells)
    if (c.from == c.to && !c.out.ok) broken.push_back(members[c.from].name + ": " + c.out.detail);
  // Stop the servers newest first: each forked server inherited the control
  // pipes of the ones started before it, so an older one only sees its pipe
  // close once every newer one is gone (oldest first would cost EchoServer's
  // 2 s SIGKILL grace per server).
  while (!servers.empty()) servers.pop_back();

  size_t allowed = 0;
  for (const auto& c : cells) allowed += c.out.ok ? 1 : 0;
  std::string what = o.proto + (o.proto == "icmp" ? "" : "/" + std::to_string(o.port)) + (o.ipv6 ? " ipv6" : " ipv4");

  if (o.as_json) {
    json out = json::object();
    for (const auto& c : cells) out[members[c.from].name + "/" + members[c.to].name] = c.out.ok;
    std::cout << out.dump() << "\n";
  } else {
    size_t w = 4;
    for (const auto& m : members) w = std::max(w, m.name.size());
    std::cout << "Reachability matrix " << what << " (rows = from, cols = to; . allowed, X denied):\n";
    std::printf("%-*s", static_cast<int>(w), "-");
    for (const auto& m : members) std::printf(" %*s", static_cast<int>(w), m.name.c_str());
    std::printf("\n");
    for (size_t f = 0; f < members.size(); ++f) {
      std::printf("%-*s", static_cast<int>(w), members[f].name.c_str());
      for (size_t t = 0; t < members.size(); ++t)
        std::printf(" %*s", static_cast<int>(w), cells[f * members.size() + t].out.ok ? "." : "X");
      std::printf("\n");
    }
    std::printf("%zu allowed, %zu denied, %zu probes in %.1f s (timeout %d ms, %d attempt%s)\n", allowed,
                cells.size() - allowed, cells.size(), secs, o.timeout_ms, o.attempts, o.attempts == 1 ? "" : "s");
    std::cout.flush();
  }
  if (o.verbose)
    for (const auto& c : cells)
      if (!c.out.ok)
        std::cerr << members[c.from].name << " -> " << members[c.to].name << " (" << members[c.to].addr << ") "
                  << what << ": " << c.out.detail << "\n";
  if (!broken.empty()) {
    for (const auto& b : broken) std::cerr << me << ": probe to itself failed (infrastructure, not policy): " << b << "\n";
    return 2;
  }
  return 0;
}

}  // namespace cpp::lab
