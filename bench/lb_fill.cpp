// cpp-lb-fill: writes synthetic ClusterIP services straight into an agent's
// pinned load-balancer maps (cpp_lb_svc / cpp_lb_be) through the map layer
// the agent itself uses (datapath::BpfLbMaps), for the service benchmarks:
// installing 10,000 services through the API one by one would measure the
// API, not the datapath.
//
//   cpp-lb-fill --pin-dir DIR --services N [--backends K] [--first I]
//               [--target ADDR:PORT,...] [--delete]
//
// Writes services I..N-1 ("filler" services: frontend 10.96.x.y:80/TCP,
// INT scope, K backends 10.128.0.0 + id, port 7000, each; service id i+1,
// backend ids i*K+17..i*K+K+16), so growing from 1,000 to 10,000 services only adds the new
// ones (--first 1000). With --target it also writes the measured service
// 10.96.255.254:80/TCP (service id 65000) with the given backends (ids
// 1..16, below the fillers'). Backends and slots are written
// before the service entry, as the agent does. --delete removes the filler
// services I..N-1 instead (service entry first, then slots and backends).
// Prints one JSON line: {"services":S,"backends":B,"entries":E,"seconds":T}.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "datapath/lb_map.h"

namespace {

using cpp::IpAddr;
using namespace cpp::datapath;

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr, "cpp-lb-fill: %s\n", msg.c_str());
  std::fprintf(stderr,
               "usage: cpp-lb-fill --pin-dir DIR --services N [--backends K] [--first I] "
               "[--target ADDR:PORT,...] [--delete]\n");
  std::exit(2);
}

IpAddr v4(uint32_t host_order) {
  IpAddr a;
  a.v6 = false;
  a.bytes[0] = host_order >> 24;
  a.bytes[1] = host_order >> 16;
  a.bytes[2] = host_order >> 8;
  a.bytes[3] = host_order;
  return a;
}

struct Target {
  IpAddr addr;
  uint16_t port;
};

std::vector<Target> parse_targets(const std::string& s) {
  std::vector<Target> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(pos, end - pos);
    auto colon = item.rfind(':');
    if (colon == std::string::npos) usage("--target " + item + ": expected ADDR:PORT");
    int port = std::atoi(item.substr(colon + 1).c_str());
    if (port < 1 || port > 65535) usage("--target " + item + ": port must be 1..65535");
    auto addr = IpAddr::parse(item.substr(0, colon));
    if (!addr) usage("--target " + item + ": not an IP address");
    out.push_back({*addr, static_cast<uint16_t>(port)});
    pos = end + 1;
  }
  return out;
}

long number(const char* flag, const char* v, long lo, long hi) {
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (!*v || *end || n < lo || n > hi)
    usage(std::string(flag) + " " + v + ": must be " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pin_dir, targets;
  long services = -1, backends = 2, first = 0;
  bool remove = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--delete") {
      remove = true;
      continue;
    }
    if (i + 1 >= argc) usage(a + " needs a value");
    const char* v = argv[++i];
    if (a == "--pin-dir") pin_dir = v;
    else if (a == "--services") services = number("--services", v, 0, 60000);
    else if (a == "--backends") backends = number("--backends", v, 1, 64);
    else if (a == "--first") first = number("--first", v, 0, 60000);
    else if (a == "--target") targets = v;
    else usage("unknown option " + a);
  }
  if (pin_dir.empty() || services < 0) usage("--pin-dir and --services are required");
  if (remove && !targets.empty()) usage("--delete removes fillers only; drop --target");
  try {
    BpfLbMaps maps(pin_dir);
    auto t0 = std::chrono::steady_clock::now();
    long n_svc = 0, n_be = 0, entries = 0;
    auto drop = [&](const LbFrontendKey& fe, const std::vector<std::pair<uint32_t, LbBackendEntry>>& bes) {
      maps.delete_slot(fe, 0);
      for (size_t slot = 1; slot <= bes.size(); ++slot) maps.delete_slot(fe, static_cast<uint16_t>(slot));
      for (const auto& [id, be] : bes) maps.delete_backend(id);
      n_svc++;
      n_be += static_cast<long>(bes.size());
      entries += 1 + 2 * static_cast<long>(bes.size());
    };
    auto put = [&](const LbFrontendKey& fe, uint16_t svc_id, const std::vector<std::pair<uint32_t, LbBackendEntry>>& bes) {
      uint16_t slot = 0;
      for (const auto& [id, be] : bes) {
        maps.put_backend(id, be);
        maps.put_slot(fe, ++slot, id);
      }
      maps.put_service(fe, LbServiceEntry{svc_id, slot, CPP_LB_F_CLUSTERIP, 0});
      n_svc++;
      n_be += static_cast<long>(bes.size());
      entries += 1 + 2 * static_cast<long>(bes.size());
    };
    const uint32_t fe_base = (10u << 24) | (96u << 16);   // 10.96.0.0
    const uint32_t be_base = (10u << 24) | (128u << 16);  // 10.128.0.0
    for (long i = first; i < services; ++i) {
      LbFrontendKey fe{v4(fe_base + static_cast<uint32_t>(i)), 80, IPPROTO_TCP, CPP_LB_SCOPE_INT};
      std::vector<std::pair<uint32_t, LbBackendEntry>> bes;
      for (long j = 0; j < backends; ++j) {
        uint32_t n = static_cast<uint32_t>(i * backends + j);
        bes.push_back({n + 17, LbBackendEntry{v4(be_base + 17 + n), 7000, IPPROTO_TCP, 0}});
      }
      if (remove)
        drop(fe, bes);
      else
        put(fe, static_cast<uint16_t>(i + 1), bes);
    }
    if (!targets.empty()) {
      if (parse_targets(targets).size() > 16) usage("--target: at most 16 backends");
      LbFrontendKey fe{v4((10u << 24) | (96u << 16) | 0xfffe), 80, IPPROTO_TCP, CPP_LB_SCOPE_INT};
      std::vector<std::pair<uint32_t, LbBackendEntry>> bes;
      uint32_t id = 1;
      for (const auto& t : parse_targets(targets)) bes.push_back({id++, LbBackendEntry{t.addr, t.port, IPPROTO_TCP, 0}});
      put(fe, 65000, bes);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"services\":%ld,\"backends\":%ld,\"entries\":%ld,\"seconds\":%.6f}\n", n_svc, n_be, entries, secs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpp-lb-fill: %s\n", e.what());
    return 1;
  }
  return 0;
}
