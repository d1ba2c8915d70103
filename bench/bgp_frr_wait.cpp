// Waits for a condition in FRR's bgpd and says when it became true, for the
// BGP benchmarks. It talks to bgpd's vty socket directly, over one
// connection: a vtysh process costs ~200 ms of CPU to start here, far too
// slow to poll with, while one query on the socket takes well under 1 ms.
//
//   cpp-bgp-frr-wait VTY_SOCKET [--interval-ms MS] [--timeout-s S] [--run CMD]... CONDITION
//     received PEER ipv4|ipv6 N   PEER's session Established and at least N
//                                 prefixes of the family received from it
//     down PEER                   PEER's session not Established and nothing
//                                 received from it (between runs)
//     has PREFIX                  bgpd's RIB holds a path for PREFIX
//     lacks PREFIX                and when it no longer does
//
// --run: a configuration command (under `router bgp`, e.g. "no neighbor X
// shutdown") sent over the same connection right after start_ns, so the
// clock starts when the change does.
//
// Prints one JSON object: start_ns, done_ns (CLOCK_REALTIME, comparable with
// `date +%s%N`), polls, poll_interval_ms (mean time between polls: the
// resolution of done_ns) and, for `received`, established_ns: the first poll
// that saw the session Established (bgpd's own uptime counts whole seconds).
// Exits 1 on timeout, 2 on bad usage, 3 when bgpd cannot be reached.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bgp_vty.h"
#include "common/ip.h"

namespace {

using nlohmann::json;
using cpp::bench::now_ns;
using cpp::bench::Vty;

struct PeerView {
  bool established = false;
  int64_t received = 0;
};

// The peer's entry in `show bgp AFI unicast summary json`; bgpd leaves a
// family without any configured peer out entirely.
PeerView peer_view(Vty& vty, const std::string& afi, const std::string& peer) {
  const json s = vty.query("show bgp " + afi + " unicast summary json");
  PeerView v;
  if (!s.contains("peers") || !s["peers"].contains(peer)) return v;
  const json& p = s["peers"][peer];
  v.established = p.value("state", "") == "Established";
  v.received = p.value("pfxRcd", int64_t{0});
  return v;
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "cpp-bgp-frr-wait: " << why
            << "\nusage: cpp-bgp-frr-wait VTY_SOCKET [--interval-ms MS] [--timeout-s S] [--run CMD]... "
               "received PEER ipv4|ipv6 N | down PEER | has PREFIX | lacks PREFIX\n";
  std::exit(2);
}

long number(const std::string& what, const std::string& s) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 0) usage(what + " must be a non-negative integer, not '" + s + "'");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) usage("no vty socket given");
  const std::string socket_path = args[0];
  long interval_ms = 10, timeout_s = 60;
  std::vector<std::string> run;
  size_t i = 1;
  for (; i + 1 < args.size() && args[i].rfind("--", 0) == 0; i += 2) {
    if (args[i] == "--interval-ms") interval_ms = number("--interval-ms", args[i + 1]);
    else if (args[i] == "--timeout-s") timeout_s = number("--timeout-s", args[i + 1]);
    else if (args[i] == "--run") run.push_back(args[i + 1]);
    else usage("unknown option " + args[i]);
  }
  const std::vector<std::string> cond(args.begin() + static_cast<long>(i), args.end());
  if (cond.empty()) usage("no condition given");
  const std::string kind = cond[0];
  std::string afi = "ipv4";
  long want = 0;
  if (kind == "received") {
    if (cond.size() != 4) usage("received takes PEER ipv4|ipv6 N");
    afi = cond[2];
    if (afi != "ipv4" && afi != "ipv6") usage("family must be ipv4 or ipv6, not '" + afi + "'");
    want = number("N", cond[3]);
  } else if (kind == "down") {
    if (cond.size() != 2) usage("down takes PEER");
  } else if (kind == "has" || kind == "lacks") {
    if (cond.size() != 2) usage(kind + " takes PREFIX");
    if (!cpp::IpPrefix::parse(cond[1])) usage("'" + cond[1] + "' is not a prefix");
  } else {
    usage("unknown condition '" + kind + "'");
  }

  try {
    Vty vty(socket_path);
    // Enter the BGP instance's node before the clock starts; only the
    // commands themselves are timed.
    if (!run.empty()) {
      const json s = vty.query("show bgp summary json");
      const json& any = s.empty() ? s : s.begin().value();
      if (!any.contains("as")) throw std::runtime_error("no BGP instance to configure");
      vty.run("enable");
      vty.run("configure terminal");
      vty.run("router bgp " + std::to_string(any["as"].get<int64_t>()));
    }
    const int64_t start = now_ns(), deadline = start + timeout_s * 1'000'000'000LL;
    for (const auto& cmd : run) vty.run(cmd);
    if (!run.empty()) vty.run("end");
    std::optional<int64_t> established;
    int64_t polls = 0, t = start;
    for (;; std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms))) {
      t = now_ns();
      ++polls;
      bool done = false;
      if (kind == "has" || kind == "lacks") {
        done = cpp::bench::frr_has(vty, cond[1]) == (kind == "has");
      } else {
        const PeerView v = peer_view(vty, afi, cond[1]);
        if (kind == "down") {
          // Both families: a session that is gone has nothing left in either.
          done = !v.established && v.received == 0 && peer_view(vty, "ipv6", cond[1]).received == 0;
        } else {
          if (v.established && !established) established = t;
          done = v.established && v.received >= want;
        }
      }
      if (done) break;
      if (t > deadline) {
        std::cerr << "cpp-bgp-frr-wait: timed out after " << timeout_s << " s waiting for";
        for (const auto& c : cond) std::cerr << " " << c;
        std::cerr << "\n";
        return 1;
      }
    }
    json out{{"start_ns", start},
             {"done_ns", t},
             {"polls", polls},
             {"poll_interval_ms", polls > 1 ? static_cast<double>(t - start) / 1e6 / static_cast<double>(polls - 1)
                                            : static_cast<double>(interval_ms)}};
    if (established) out["established_ns"] = *established;
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "cpp-bgp-frr-wait: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
