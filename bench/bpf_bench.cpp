// cpp-bpf-bench: ns per packet of cil_from_container (bpf_lxc) for a pod ->
// pod TCP packet on the same node, through BPF_PROG_TEST_RUN with repeat,
// next to an empty tc program (returns TC_ACT_OK) as the fixed cost of the
// test-run loop. Far less noisy than end-to-end throughput
// (bench-protocol.md). The program is loaded as the agent loads it
// (skeleton, load-time constants, pinned maps under a unique pin dir).
//
//   cpp-bpf-bench [--rounds R] [--calls C]
//
// Event emission cost: the same IPv4 packet through a second copy of the
// program loaded with monitor-aggregation none, where every forwarded
// packet is a trace event in the cpp_events ring (an EventReader thread
// drains it, as the agent does), against the default (medium), where an
// established packet sends none. Events that did not fit are counted
// (cpp_ev_lost) and reported.
//
// Each round runs every case C times with repeat 250 (the program decrements
// the TTL / hop limit in place on every repeat, so a frame starting at 255
// stays on the delivery path); the figure per case is the median over rounds
// of the kernel-measured mean ns per run.
//
// End to end (--pipeline-rate N, --pipeline-seconds S): the trace-every-packet
// program runs N packets/s for S seconds (a BPF_PROG_TEST_RUN batch every
// millisecond) while a reader turns every event into a Hubble flow
// (EventParser with a fixed enricher) and stores it in a FlowRing, as the
// agent does; events the ring buffer had no room for are the loss.
// Prints one JSON object.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/files.h"
#include "datapath/bpffs.h"
#include "datapath/consts.h"
#include "datapath/endpoint_map.h"
#include "datapath/event_reader.h"
#include "datapath/loader.h"
#include "datapath/program.h"
#include "hubble/event_parser.h"
#include "hubble/flow_ring.h"

namespace {

using Bytes = std::vector<uint8_t>;
using cpp::IpAddr;
using cpp::MacAddr;
namespace dp = cpp::datapath;

constexpr uint32_t kRepeat = 250;

IpAddr ip(const char* s) {
  auto a = IpAddr::parse(s);
  if (!a) throw std::invalid_argument(std::string("bad address ") + s);
  return *a;
}

// Unique pin dir under /sys/fs/bpf/ciliumpp/, removed with its pins at exit.
struct PinDir {
  std::string path;
  PinDir() {
    dp::ensure_bpffs();
    std::random_device rd;
    char sfx[16];
    std::snprintf(sfx, sizeof sfx, "%08x", rd());
    path = std::string(dp::kBpffsRoot) + "/ciliumpp/bench-bpf-" + std::to_string(getpid()) + "-" + sfx;
    std::filesystem::create_directories(path);
  }
  ~PinDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

uint32_t sum16(const uint8_t* p, size_t n, uint32_t s = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
  return s;
}
uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}
void put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

// Ethernet + IPv4/IPv6 + TCP ACK with `payload` bytes, checksums filled in.
Bytes tcp_frame(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src, const IpAddr& dst,
                size_t payload) {
  const size_t l3 = src.v6 ? 40 : 20, l4 = 20 + payload;
  Bytes b(14 + l3 + l4, 0);
  std::copy(dst_mac.begin(), dst_mac.end(), b.begin());
  std::copy(src_mac.begin(), src_mac.end(), b.begin() + 6);
  put16(b, 12, src.v6 ? 0x86dd : 0x0800);
  const size_t ip_off = 14, tcp_off = 14 + l3;
  if (!src.v6) {
    b[ip_off] = 0x45;
    put16(b, ip_off + 2, static_cast<uint16_t>(l3 + l4));
    put16(b, ip_off + 6, 0x4000);  // DF
    b[ip_off + 8] = 255;           // TTL
    b[ip_off + 9] = 6;
    std::copy_n(src.bytes.begin(), 4, b.begin() + ip_off + 12);
    std::copy_n(dst.bytes.begin(), 4, b.begin() + ip_off + 16);
    put16(b, ip_off + 10, fold(sum16(&b[ip_off], 20)));
  } else {
    b[ip_off] = 0x60;
    put16(b, ip_off + 4, static_cast<uint16_t>(l4));
    b[ip_off + 6] = 6;
    b[ip_off + 7] = 255;  // hop limit
    std::copy(src.bytes.begin(), src.bytes.end(), b.begin() + ip_off + 8);
    std::copy(dst.bytes.begin(), dst.bytes.end(), b.begin() + ip_off + 24);
  }
  put16(b, tcp_off, 40000);
  put16(b, tcp_off + 2, 7000);
  b[tcp_off + 7] = 1;        // seq
  b[tcp_off + 11] = 1;       // ack
  b[tcp_off + 12] = 5 << 4;  // data offset
  b[tcp_off + 13] = 0x18;    // PSH|ACK
  put16(b, tcp_off + 14, 512);
  for (size_t i = 0; i < payload; ++i) b[tcp_off + 20 + i] = static_cast<uint8_t>('a' + i % 26);
  // Pseudo header + segment.
  const size_t alen = src.v6 ? 16 : 4;
  uint32_t s = sum16(src.bytes.data(), alen);
  s = sum16(dst.bytes.data(), alen, s);
  s += 6 + static_cast<uint32_t>(l4);
  s = sum16(&b[tcp_off], l4, s);
  put16(b, tcp_off + 16, fold(s));
  return b;
}

// tc program "return TC_ACT_OK".
int load_empty_prog() {
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, TC_ACT_OK},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "cpp_bench_empty", "GPL", insns, 2, nullptr);
  if (fd < 0) throw std::runtime_error(std::string("loading the empty tc program: ") + std::strerror(-fd));
  return fd;
}

struct Case {
  std::string name;
  int fd;
  Bytes pkt;
  int want_verdict;
};

// One BPF_PROG_TEST_RUN call with repeat; returns the kernel's mean ns/run.
double run_once(const Case& c, Bytes& out, uint32_t repeat = kRepeat) {
  out.assign(c.pkt.size() + 256, 0);
  bpf_test_run_opts o{};
  o.sz = sizeof o;
  o.data_in = c.pkt.data();
  o.data_size_in = static_cast<uint32_t>(c.pkt.size());
  o.data_out = out.data();
  o.data_size_out = static_cast<uint32_t>(out.size());
  o.repeat = repeat;
  int err = bpf_prog_test_run_opts(c.fd, &o);
  if (err) throw std::runtime_error("BPF_PROG_TEST_RUN " + c.name + ": " + std::strerror(-err));
  if (static_cast<int>(o.retval) != c.want_verdict)
    throw std::runtime_error(c.name + ": verdict " + std::to_string(o.retval) + ", expected " +
                             std::to_string(c.want_verdict) + " (the packet did not take the measured path)");
  return static_cast<double>(o.duration);
}

// Answers like the agent's enricher does for a hot cache: shared records.
class FixedEnricher : public cpp::hubble::Enricher {
 public:
  FixedEnricher() {
    auto e = std::make_shared<cpp::hubble::EndpointInfo>();
    e->identity = 256;
    e->namespace_ = "bench";
    e->pod_name = "pod";
    e->labels = {"k8s:app=bench", "k8s:io.kubernetes.pod.namespace=bench"};
    ep_ = e;
  }
  std::shared_ptr<const cpp::hubble::EndpointInfo> endpoint(const IpAddr&, uint16_t, uint32_t) const override {
    return ep_;
  }
  std::shared_ptr<const cpp::hubble::PolicyRef> policy(uint32_t) const override { return nullptr; }
  std::optional<cpp::hubble::ServiceRef> service(const IpAddr&, uint16_t, uint8_t) const override {
    return std::nullopt;
  }
  std::string interface_name(uint32_t) const override { return "lxc0"; }
  std::string node_name() const override { return "bench"; }

 private:
  std::shared_ptr<const cpp::hubble::EndpointInfo> ep_;
};

struct PipelineResult {
  uint64_t packets = 0, flows = 0, lost = 0;
  double seconds = 0;
};

// Paced packets through the trace-every-packet program while the events
// become flows; see the header comment.
PipelineResult run_pipeline(const std::string& pin, const Case& c, int rate, int seconds) {
  FixedEnricher enricher;
  cpp::hubble::EventParser parser(enricher, cpp::hubble::EventParser::current_boot_offset_ns());
  cpp::hubble::FlowRing ring(65535);
  dp::EventsLostCounter lost(pin);
  const uint64_t lost_before = lost.read();
  dp::EventReader reader(pin, [&](const dp::Event& e) { ring.push(parser.parse(e)); });
  reader.start();
  const uint32_t batch = static_cast<uint32_t>(std::max(1, rate / 1000));
  Bytes out;
  PipelineResult r;
  auto start = std::chrono::steady_clock::now(), next = start;
  auto end = start + std::chrono::seconds(seconds);
  while (next < end) {
    run_once(c, out, batch);
    r.packets += batch;
    next += std::chrono::milliseconds(1);
    std::this_thread::sleep_until(next);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // What is still in the ring is not lost: let the reader finish it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ring.seen() + (lost.read() - lost_before) < r.packets && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  reader.stop();
  reader.consume();
  r.flows = ring.seen();
  r.lost = lost.read() - lost_before;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int parse_int(const char* flag, const char* v, int lo, int hi) {
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end || x < lo || x > hi) {
    std::fprintf(stderr, "cpp-bpf-bench: %s must be an integer in %d..%d\n", flag, lo, hi);
    std::exit(2);
  }
  return static_cast<int>(x);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 9, calls = 400, pipeline_rate = 100000, pipeline_seconds = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = parse_int("--rounds", argv[++i], 1, 1000);
    else if (a == "--calls" && i + 1 < argc) calls = parse_int("--calls", argv[++i], 1, 100000);
    else if (a == "--pipeline-rate" && i + 1 < argc)
      pipeline_rate = parse_int("--pipeline-rate", argv[++i], 1000, 10000000);
    else if (a == "--pipeline-seconds" && i + 1 < argc)
      pipeline_seconds = parse_int("--pipeline-seconds", argv[++i], 1, 600);
    else {
      std::fprintf(stderr,
                   "usage: cpp-bpf-bench [--rounds R] [--calls C] [--pipeline-rate N] [--pipeline-seconds S]\n");
      return 2;
    }
  }
  try {
    PinDir pin;
    // Pod A (the program's endpoint) sends to pod B on the same node.
    const IpAddr router4 = ip("10.233.64.1"), router6 = ip("fd00:10:233:1::1");
    const IpAddr a4 = ip("10.233.64.10"), a6 = ip("fd00:10:233:1::10");
    const IpAddr b4 = ip("10.233.64.20"), b6 = ip("fd00:10:233:1::20");
    const MacAddr a_mac{0x02, 0xaa, 0, 0, 0, 1}, a_lxc{0x02, 0xaa, 0, 0, 0, 2};
    const MacAddr b_mac{0x02, 0xbb, 0, 0, 0, 1}, b_lxc{0x02, 0xbb, 0, 0, 0, 2};

    dp::Loader(pin.path).ensure_maps();
    dp::EndpointMap eps(pin.path);
    cpp_endpoint_info b{};
    b.ifindex = 42;
    b.lxc_id = 102;
    std::copy(b_mac.begin(), b_mac.end(), b.mac);
    std::copy(b_lxc.begin(), b_lxc.end(), b.node_mac);
    eps.upsert(b4, b);
    eps.upsert(b6, b);
    cpp_endpoint_info host{};
    host.flags = CPP_EP_F_HOST;
    eps.upsert(router4, host);
    eps.upsert(router6, host);

    dp::NodeConsts node;
    node.router_ipv4 = router4;
    node.router_ipv6 = router6;
    dp::EndpointConsts ep;
    ep.id = 101;
    ep.lxc_mac = a_lxc;
    ep.ipv4 = a4;
    ep.ipv6 = a6;
    auto lxc = dp::load_lxc_object(pin.path, node, ep, 41);
    dp::NodeConsts trace_all = node;
    trace_all.monitor_aggregation = CPP_MONITOR_AGG_NONE;
    auto lxc_none = dp::load_lxc_object(pin.path, trace_all, ep, 41);
    int empty = load_empty_prog();
    std::atomic<uint64_t> traces{0};
    dp::EventReader reader(pin.path, [&](const dp::Event& e) {
      if (e.type == CPP_EVENT_TRACE) traces.fetch_add(1, std::memory_order_relaxed);
    });
    dp::EventsLostCounter lost(pin.path);
    reader.start();

    const int kRedirect = TC_ACT_REDIRECT;
    std::vector<Case> cases{
        {"empty_tc_prog", empty, tcp_frame(a_lxc, a_mac, a4, b4, 64), TC_ACT_OK},
        {"lxc_ipv4_tcp_to_local_pod", lxc.fd(), tcp_frame(a_lxc, a_mac, a4, b4, 64), kRedirect},
        {"lxc_ipv6_tcp_to_local_pod", lxc.fd(), tcp_frame(a_lxc, a_mac, a6, b6, 64), kRedirect},
        {"lxc_ipv4_tcp_to_local_pod_trace_every_packet", lxc_none.fd(), tcp_frame(a_lxc, a_mac, a4, b4, 64),
         kRedirect},
    };
    std::vector<std::vector<double>> per(cases.size());
    Bytes out;
    for (auto& c : cases) run_once(c, out);  // warm-up (and verdict check)
    for (int r = 0; r < rounds; ++r) {
      for (size_t k = 0; k < cases.size(); ++k) {  // interleaved
        double sum = 0;
        for (int i = 0; i < calls; ++i) sum += run_once(cases[k], out);
        per[k].push_back(sum / calls);
      }
    }
    close(empty);
    reader.stop();
    reader.consume();
    const uint64_t traces_read = traces.load(), lost_in_cost_phase = lost.read();
    auto pipe = run_pipeline(pin.path, cases[3], pipeline_rate, pipeline_seconds);
    std::printf("{\"repeat\":%u,\"calls\":%d,\"rounds\":%d,\"packet_bytes\":{\"ipv4\":%zu,\"ipv6\":%zu},\"ns_per_packet\":{",
                kRepeat, calls, rounds, cases[1].pkt.size(), cases[2].pkt.size());
    for (size_t k = 0; k < cases.size(); ++k) {
      auto mn = *std::min_element(per[k].begin(), per[k].end());
      auto mx = *std::max_element(per[k].begin(), per[k].end());
      std::printf("%s\"%s\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f}", k ? "," : "", cases[k].name.c_str(),
                  median(per[k]), mn, mx);
    }
    double e = median(per[0]);
    std::printf("},\"over_empty_ns\":{\"ipv4\":%.1f,\"ipv6\":%.1f}", median(per[1]) - e, median(per[2]) - e);
    // Cost of a trace event per packet: aggregation none vs medium
    // (established packet, no event), same IPv4 packet and program.
    double none = median(per[3]), medium = median(per[1]);
    std::printf(",\"event_cost\":{\"none_ns\":%.1f,\"medium_ns\":%.1f,\"extra_ns\":%.1f,\"ratio\":%.3f,"
                "\"trace_events_read\":%llu,\"events_lost\":%llu}",
                none, medium, none - medium, medium > 0 ? none / medium : 0.0,
                static_cast<unsigned long long>(traces_read), static_cast<unsigned long long>(lost_in_cost_phase));
    std::printf(",\"pipeline\":{\"target_rate\":%d,\"seconds\":%.2f,\"packets\":%llu,\"flows\":%llu,"
                "\"events_lost\":%llu,\"flows_per_second\":%.0f}}\n",
                pipeline_rate, pipe.seconds, static_cast<unsigned long long>(pipe.packets),
                static_cast<unsigned long long>(pipe.flows), static_cast<unsigned long long>(pipe.lost),
                pipe.seconds > 0 ? static_cast<double>(pipe.flows) / pipe.seconds : 0.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpp-bpf-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
