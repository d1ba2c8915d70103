// Per-packet cost of the policy datapath (pod A's egress in bpf_lxc, to a
// destination outside the node) with 10 and with 10,000 entries in
// cpp_policy, measured with BPF_PROG_TEST_RUN's repeat/duration. Prints
// ns/packet; asserts nothing about timing (CI machines vary), only that the
// verdicts are right.
//
// The destination is not a pod of the node: repeated runs reuse one
// buffer, and same-node delivery decrements its TTL on every run.
//
// Paths measured:
//   established  a packet of an allowed connection: conntrack hit, no policy
//   new-denied   a SYN nothing allows: conntrack miss, all six policy
//                lookups, events (the ring is kept full, so an event costs a
//                failed reservation), no conntrack entry -> repeatable
//   unenforced   a packet with enforcement off (conntrack hit)
#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "policy_fixture.h"

namespace cpp::bpftest {
namespace {

class PolicyBench : public PolicyFixture {
 protected:
  // Median over rounds of the kernel-measured average run time.
  double ns_per_packet(const Bytes& pkt, int expect_verdict, uint32_t repeat = 200000) {
    std::vector<double> rounds;
    for (int i = 0; i < 5; ++i) {
      bpf_test_run_opts opts{};
      opts.sz = sizeof(opts);
      opts.data_in = pkt.data();
      opts.data_size_in = static_cast<uint32_t>(pkt.size());
      opts.repeat = repeat;
      EXPECT_EQ(bpf_prog_test_run_opts(lxc_a_->fd(), &opts), 0);
      EXPECT_EQ(opts.retval, static_cast<uint32_t>(expect_verdict));
      rounds.push_back(opts.duration);
    }
    std::sort(rounds.begin(), rounds.end());
    return rounds[rounds.size() / 2];
  }

  // n entries in all: pod A's own plus filler for 50 other endpoints and
  // many identities, as on a busy node.
  void fill_policy(size_t n) {
    policy_->sync(kEpA, {});
    for (uint16_t ep = 200; ep < 250; ++ep) policy_->sync(ep, {});
    allow(kEpA, CPP_DIR_EGRESS, CPP_ID_WORLD, kTcp, 80);
    allow(kEpA, CPP_DIR_INGRESS, CPP_ID_WORLD, kTcp, 443);
    for (size_t i = 2; i < n; ++i)
      allow(static_cast<uint16_t>(200 + i % 50), static_cast<uint8_t>(i & 1),
            static_cast<uint32_t>(100000 + i), kTcp, static_cast<uint16_t>(1 + i % 1000));
    ASSERT_EQ(policy_->dump().size(), n);
  }
};

TEST_F(PolicyBench, PerPacketCostWith10And10000Entries) {
  const IpAddr a = t_.a4, b = t_.world4;
  // Keep the ring full so event cost is constant (a failed reservation).
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  ns_per_packet(from_a(a, b, kTcp, tcp(a, b, 1, 81, kTcpSyn)), kTcActShot, 60000);

  struct Row {
    size_t entries;
    double established, new_denied, unenforced;
  };
  std::vector<Row> rows;
  uint16_t sport = 20000;
  for (size_t n : {size_t{10}, size_t{10000}}) {
    fill_policy(n);
    set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
    Row r{n, 0, 0, 0};
    ++sport;
    ASSERT_EQ(run_a(from_a(a, b, kTcp, tcp(a, b, sport, 80, kTcpSyn))).verdict, kTcActOk);
    r.established = ns_per_packet(from_a(a, b, kTcp, tcp(a, b, sport, 80, kTcpAck)), kTcActOk);
    r.new_denied = ns_per_packet(from_a(a, b, kTcp, tcp(a, b, sport, 81, kTcpSyn)), kTcActShot);
    set_flags_a(0);
    r.unenforced = ns_per_packet(from_a(a, b, kTcp, tcp(a, b, sport, 80, kTcpAck)), kTcActOk);
    rows.push_back(r);
  }
  std::printf("\n  policy entries | established ns/pkt | new-denied ns/pkt | unenforced ns/pkt\n");
  for (const auto& r : rows)
    std::printf("  %14zu | %18.0f | %17.0f | %17.0f\n", r.entries, r.established, r.new_denied,
                r.unenforced);
  std::printf("  ratio 10000/10 | %18.2f | %17.2f | %17.2f\n\n",
              rows[1].established / rows[0].established, rows[1].new_denied / rows[0].new_denied,
              rows[1].unenforced / rows[0].unenforced);
  RecordProperty("established_ns_10", static_cast<int>(rows[0].established));
  RecordProperty("established_ns_10000", static_cast<int>(rows[1].established));
  RecordProperty("new_denied_ns_10", static_cast<int>(rows[0].new_denied));
  RecordProperty("new_denied_ns_10000", static_cast<int>(rows[1].new_denied));
}

}  // namespace
}  // namespace cpp::bpftest
