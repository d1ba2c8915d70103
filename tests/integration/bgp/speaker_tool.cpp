// Test driver: runs the real speaker (make_speaker) in the current network
// namespace. Reads its desired state from a config file and re-applies it
// whenever the file changes (tests replace it atomically); writes the
// peers' status as JSON every 100 ms. SIGTERM: stop() (Cease) and exit;
// SIGUSR1: stop(keep_routes=true) and exit. Status per peer: state,
// advertised, received (also per family) and stale (kept through the peer's
// graceful restart) route counts.
//
// Config lines:
//   router-id A.B.C.D
//   listen PORT                      (-1: no listener)
//   router ASN
//   neighbor ADDR ASN [md5=KEY] [passive] [hold=S] [retry=S] [port=P] [local=ADDR] [ttl=N] [gr] [v4only]
//   route PREFIX [NEXTHOP]
#include <arpa/inet.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "bgp/speaker.h"
#include "common/log.h"

using namespace cpp;
using namespace cpp::bgp;

namespace {

std::atomic<int> g_signal{0};

IpAddr addr(const std::string& s) {
  auto a = IpAddr::parse(s);
  if (!a) throw std::runtime_error("bad address " + s);
  return *a;
}

SpeakerConfig parse(const std::string& path) {
  std::ifstream in(path);
  SpeakerConfig cfg;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream ss(line);
    std::string kw;
    if (!(ss >> kw) || kw[0] == '#') continue;
    if (kw == "router-id") {
      std::string a;
      ss >> a;
      in_addr ia{};
      inet_pton(AF_INET, a.c_str(), &ia);
      cfg.router_id = ntohl(ia.s_addr);
    } else if (kw == "listen") {
      ss >> cfg.listen_port;
    } else if (kw == "router") {
      cfg.routers.emplace_back();
      ss >> cfg.routers.back().local_asn;
    } else if (kw == "neighbor") {
      NeighborConfig nb;
      std::string a, opt;
      ss >> a >> nb.peer_asn;
      nb.peer_address = addr(a);
      while (ss >> opt) {
        auto eq = opt.find('=');
        std::string k = opt.substr(0, eq), v = eq == std::string::npos ? "" : opt.substr(eq + 1);
        if (k == "md5") nb.md5_password = v;
        else if (k == "passive") nb.passive = true;
        else if (k == "hold") nb.hold_time_s = static_cast<uint16_t>(std::stoi(v)), nb.keepalive_s = nb.hold_time_s / 3;
        else if (k == "retry") nb.connect_retry_s = static_cast<uint16_t>(std::stoi(v));
        else if (k == "port") nb.peer_port = static_cast<uint16_t>(std::stoi(v));
        else if (k == "local") nb.local_address = addr(v);
        else if (k == "ttl") nb.ebgp_multihop_ttl = static_cast<uint8_t>(std::stoi(v));
        else if (k == "gr") nb.graceful_restart = true;
        else if (k == "v4only") nb.families = {{Afi::IPv4, Safi::Unicast}};
        else throw std::runtime_error(path + ":" + std::to_string(n) + ": unknown neighbor option " + opt);
      }
      cfg.routers.back().neighbors.push_back(nb);
    } else if (kw == "route") {
      std::string p, nh;
      ss >> p >> nh;
      Route r{*IpPrefix::parse(p), std::nullopt};
      if (!nh.empty()) r.next_hop = addr(nh);
      cfg.routers.back().routes.push_back(r);
    } else {
      throw std::runtime_error(path + ":" + std::to_string(n) + ": unknown keyword " + kw);
    }
  }
  return cfg;
}

void write_status(const Speaker& s, const std::string& path, std::set<std::string>& ever) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : s.peers()) {
    if (p.state == SessionState::Established) ever.insert(p.peer_address.str());
    nlohmann::json by_family = nlohmann::json::object();
    for (const auto& [f, n] : p.received_by_family) by_family[to_string(f)] = n;
    j.push_back({{"peer", p.peer_address.str()},
                 {"state", to_string(p.state)},
                 {"ever_established", ever.count(p.peer_address.str()) > 0},
                 {"advertised", p.advertised},
                 {"received", p.received},
                 {"received_by_family", by_family},
                 {"stale", p.stale},
                 {"hold", p.hold_time_s},
                 {"graceful_restart", p.graceful_restart},
                 {"last_error", p.last_error}});
  }
  std::ofstream(path + ".tmp") << j.dump() << "\n";
  std::rename((path + ".tmp").c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bgp-test-speaker CONFIG STATUS_JSON [restarting]\n";
    return 2;
  }
  init_logging("bgp-test-speaker", true);
  std::signal(SIGTERM, [](int s) { g_signal = s; });
  std::signal(SIGUSR1, [](int s) { g_signal = s; });
  auto speaker = make_speaker(argc > 3 && std::string(argv[3]) == "restarting");
  timespec last{};
  std::set<std::string> ever;
  while (!g_signal) {
    struct stat st{};
    if (stat(argv[1], &st) == 0 &&
        (st.st_mtim.tv_sec != last.tv_sec || st.st_mtim.tv_nsec != last.tv_nsec)) {
      last = st.st_mtim;
      try {
        speaker->apply(parse(argv[1]));
        spdlog::info("applied {}", argv[1]);
      } catch (const std::exception& e) {
        spdlog::error("apply: {}", e.what());
      }
    }
    write_status(*speaker, argv[2], ever);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  speaker->stop(g_signal == SIGUSR1);
  write_status(*speaker, argv[2], ever);
  return 0;
}
