// Test fixture: an ObserverServer over N synthetic flows, for clients
// written in other languages. Prints "ready port=<tcp port>" once serving;
// exits 0 on SIGTERM/SIGINT.
//
//   hubble_test_server --listen 127.0.0.1:0 --socket /tmp/x/hubble.sock --flows 10
//                      [--tick-ms 50 --lost-per-tick 3]
//                      [--tls-cert F --tls-key F [--tls-client-ca F]]
// With --tick-ms, a new flow arrives every tick and the datapath loss
// counter grows by --lost-per-tick.
#include <netinet/in.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "hubble_server/observer_server.h"

using namespace cpp;
using namespace cpp::hubble;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<const EndpointInfo> pod(uint32_t id, uint32_t identity, const std::string& name) {
  auto e = std::make_shared<EndpointInfo>();
  e->id = id;
  e->identity = identity;
  e->namespace_ = "default";
  e->pod_name = name;
  e->labels = {"k8s:app=" + name, "k8s:io.kubernetes.pod.namespace=default"};
  return e;
}

// Even i: TCP SYN client → server:80, forwarded. Odd i: UDP client →
// server:53, dropped by policy "deny-dns".
Flow synthetic(uint64_t i, int64_t time_ns) {
  static const auto client = pod(11, 256, "client"), server = pod(22, 258, "server");
  static const auto policy = [] {
    auto p = std::make_shared<PolicyRef>();
    p->name = "deny-dns";
    p->namespace_ = "default";
    p->kind = "CiliumNetworkPolicy";
    return std::shared_ptr<const PolicyRef>(p);
  }();
  Flow f;
  f.time_ns = time_ns;
  f.node_name = "test-node";
  f.ip_version = 4;
  f.src_ip = *IpAddr::parse("10.0.0.1");
  f.dst_ip = *IpAddr::parse("10.0.0.2");
  f.src_port = static_cast<uint16_t>(40000 + i % 20000);
  f.source = client;
  f.destination = server;
  f.traffic_direction = TrafficDirection::Ingress;
  if (i % 2 == 0) {
    f.verdict = Verdict::Forwarded;
    f.event_type = kMonitorTypeTrace;
    f.event_sub_type = f.trace_observation_point = 101;
    f.protocol = IPPROTO_TCP;
    f.dst_port = 80;
    f.tcp_flags = 0x02;
    f.is_reply = false;
  } else {
    f.verdict = Verdict::Dropped;
    f.event_type = kMonitorTypePolicyVerdict;
    f.drop_reason = 133;
    f.protocol = IPPROTO_UDP;
    f.dst_port = 53;
    f.ingress_denied_by = {policy};
  }
  return f;
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "hubble_test_server: " << why
            << "\nusage: hubble_test_server --listen ADDR --socket PATH --flows N [--tick-ms MS --lost-per-tick K]"
               " [--tls-cert F --tls-key F [--tls-client-ca F]]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen, socket, tls_cert, tls_key, tls_client_ca;
  uint64_t flows = 0, tick_ms = 0, lost_per_tick = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--listen") listen = v;
    else if (a == "--socket") socket = v;
    else if (a == "--flows") flows = std::stoull(v);
    else if (a == "--tick-ms") tick_ms = std::stoull(v);
    else if (a == "--lost-per-tick") lost_per_tick = std::stoull(v);
    else if (a == "--tls-cert") tls_cert = v;
    else if (a == "--tls-key") tls_key = v;
    else if (a == "--tls-client-ca") tls_client_ca = v;
    else usage("unknown flag " + a);
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before gRPC starts its threads

  FlowRing ring(std::max<uint64_t>(flows, 1) + 1000);
  const int64_t t0 = now_ns();
  for (uint64_t i = 0; i < flows; ++i) ring.push(synthetic(i, t0 - int64_t(flows - i) * 1'000'000));
  std::atomic<uint64_t> lost{0};
  ObserverOptions options{"test-node", "0.0.0-test", listen, socket, ""};
  options.tls_cert_file = tls_cert;
  options.tls_key_file = tls_key;
  options.tls_client_ca_file = tls_client_ca;
  ObserverServer server(ObserverSources{&ring, [&] { return lost.load(); }}, options);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "hubble_test_server: " << e.what() << "\n";
    return 1;
  }
  std::cout << "ready port=" << server.tcp_port() << std::endl;

  uint64_t next = flows;
  for (;;) {
    timespec ts{static_cast<time_t>(tick_ms / 1000), static_cast<long>(tick_ms % 1000) * 1'000'000};
    const int sig = tick_ms ? sigtimedwait(&sigs, nullptr, &ts) : sigwaitinfo(&sigs, nullptr);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (tick_ms) {
      ring.push(synthetic(next++, now_ns()));
      lost += lost_per_tick;
    }
  }
  server.stop();
  return 0;
}
