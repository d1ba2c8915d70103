// Reference for bench/bgp-lb-latency.sh: how long FRR takes to learn (and
// forget) a route when the speaker alone changes its desired state, with no
// agent in front. Runs the real speaker (make_speaker()) in the current
// network namespace with one neighbor, waits for the session, then COUNT
// times: apply() with one more /32, poll bgpd over its vty socket until the
// prefix is in its RIB; apply() without it, poll until it is gone.
//
//   cpp-bgp-apply-latency VTY_SOCKET ROUTER_ID LOCAL_ASN PEER PEER_ASN COUNT INTERVAL_MS
//
// ROUTER_ID is also the session's local address (FRR's name for the peer).
// Prefixes: 198.51.100.i/32. Prints one JSON object: announce_ms and
// withdraw_ms (one sample per iteration) and poll_interval_ms (mean time
// between polls, the resolution of the samples).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bgp/speaker.h"
#include "bgp_vty.h"
#include "common/log.h"

namespace {

using namespace cpp;
using cpp::bench::now_ns;
using cpp::bench::Vty;

constexpr int64_t kTimeoutNs = 60'000'000'000LL;

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "cpp-bgp-apply-latency: " << why
            << "\nusage: cpp-bgp-apply-latency VTY_SOCKET ROUTER_ID LOCAL_ASN PEER PEER_ASN COUNT INTERVAL_MS\n";
  std::exit(2);
}

long number(const char* what, const std::string& s, long max) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0 || v > max)
    usage(std::string(what) + " must be 1.." + std::to_string(max) + ", not '" + s + "'");
  return v;
}

IpAddr ipv4(const char* what, const std::string& s) {
  auto a = IpAddr::parse(s);
  if (!a || a->v6) usage(std::string(what) + " must be an IPv4 address, not '" + s + "'");
  return *a;
}

struct Poller {
  Vty& vty;
  long interval_ms;
  int64_t polls = 0, polled_ns = 0;

  // Polls until `pred` holds; returns the ns from t0 to the poll that saw it.
  template <class Pred>
  int64_t until(int64_t t0, const std::string& what, Pred pred) {
    for (int64_t first = 0;; std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms))) {
      const int64_t t = now_ns();
      if (first == 0) first = t;
      ++polls;
      if (pred()) {
        polled_ns += t - first;
        return t - t0;
      }
      if (t - t0 > kTimeoutNs) throw std::runtime_error("timed out waiting for " + what);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) usage("expected 7 arguments, got " + std::to_string(argc - 1));
  const IpAddr router_id = ipv4("ROUTER_ID", argv[2]);
  const auto local_asn = static_cast<uint32_t>(number("LOCAL_ASN", argv[3], 4294967295L));
  const IpAddr peer = ipv4("PEER", argv[4]);
  const auto peer_asn = static_cast<uint32_t>(number("PEER_ASN", argv[5], 4294967295L));
  const long count = number("COUNT", argv[6], 256);
  const long interval_ms = number("INTERVAL_MS", argv[7], 1000);
  init_logging("cpp-bgp-apply-latency", false);

  try {
    Vty vty(argv[1]);
    Poller poll{vty, interval_ms};
    bgp::SpeakerConfig base;
    const auto& b = router_id.bytes;
    base.router_id = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
    bgp::NeighborConfig nb;
    nb.peer_address = peer;
    nb.peer_asn = peer_asn;
    nb.local_address = router_id;
    nb.connect_retry_s = 1;
    nb.families = {{bgp::Afi::IPv4, bgp::Safi::Unicast}};
    base.routers.push_back({local_asn, {nb}, {}});

    auto speaker = bgp::make_speaker();
    speaker->apply(base);
    const std::string frr_name = router_id.str();
    poll.until(now_ns(), "the session with " + peer.str(), [&] {
      const auto s = vty.query("show bgp ipv4 unicast summary json");
      return s.contains("peers") && s["peers"].contains(frr_name) &&
             s["peers"][frr_name].value("state", "") == "Established";
    });
    poll.polls = poll.polled_ns = 0;

    nlohmann::json announce = nlohmann::json::array(), withdraw = nlohmann::json::array();
    for (long i = 0; i < count; ++i) {
      const std::string prefix = "198.51.100." + std::to_string(i) + "/32";
      bgp::SpeakerConfig with = base;
      with.routers[0].routes.push_back({*IpPrefix::parse(prefix), std::nullopt});
      int64_t t0 = now_ns();
      speaker->apply(with);
      announce.push_back(static_cast<double>(poll.until(t0, prefix, [&] { return bench::frr_has(vty, prefix); })) / 1e6);
      t0 = now_ns();
      speaker->apply(base);
      withdraw.push_back(static_cast<double>(
                             poll.until(t0, "withdrawal of " + prefix, [&] { return !bench::frr_has(vty, prefix); })) /
                         1e6);
    }
    speaker->stop();
    // Polls after the first of each wait are interval-spaced.
    const int64_t spaced = poll.polls - 2 * count;
    std::cout << nlohmann::json{{"announce_ms", announce},
                                {"withdraw_ms", withdraw},
                                {"poll_interval_ms", spaced > 0 ? static_cast<double>(poll.polled_ns) / 1e6 /
                                                                      static_cast<double>(spaced)
                                                                : static_cast<double>(interval_ms)}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "cpp-bgp-apply-latency: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
