#include <gtest/gtest.h>
#include <netinet/in.h>

#include <functional>

#include "hubble/flow_filter.h"

namespace cpp::hubble {
namespace {

using Filters = google::protobuf::RepeatedPtrField<flow::FlowFilter>;

std::shared_ptr<EndpointInfo> ep(uint32_t identity, std::string ns, std::string pod, std::vector<std::string> labels) {
  auto e = std::make_shared<EndpointInfo>();
  e->identity = identity;
  e->namespace_ = std::move(ns);
  e->pod_name = std::move(pod);
  e->labels = std::move(labels);
  return e;
}

// client (default/client-7d9f, 256) → server (prod/server-1, 258), TCP SYN
// to 8080, forwarded on ingress.
Flow base() {
  Flow f;
  f.node_name = "kind-worker";
  f.verdict = Verdict::Forwarded;
  f.event_type = kMonitorTypeTrace;
  f.event_sub_type = 0;  // to-endpoint
  f.traffic_direction = TrafficDirection::Ingress;
  f.is_reply = false;
  f.ip_version = 4;
  f.src_ip = *IpAddr::parse("10.0.1.5");
  f.dst_ip = *IpAddr::parse("10.0.2.9");
  f.protocol = IPPROTO_TCP;
  f.src_port = 41234;
  f.dst_port = 8080;
  f.tcp_flags = 0x02;
  f.source = ep(256, "default", "client-7d9f", {"k8s:app=client", "k8s:io.kubernetes.pod.namespace=default"});
  f.destination = ep(258, "prod", "server-1", {"k8s:app=server", "k8s:tier=back", "k8s:io.kubernetes.pod.namespace=prod"});
  return f;
}

class FlowFilterTest : public ::testing::Test {
 protected:
  // Whether `f` passes a whitelist of one filter built by `build`.
  bool pass(const std::function<void(flow::FlowFilter&)>& build, const Flow& f = base()) {
    Filters white, black;
    build(*white.Add());
    return FlowFilterSet::compile(white, black).matches(f);
  }
  // The FilterError text for a whitelist of one filter.
  std::string error(const std::function<void(flow::FlowFilter&)>& build) {
    Filters white, black;
    build(*white.Add());
    try {
      FlowFilterSet::compile(white, black);
    } catch (const FilterError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(FlowFilterTest, NoFiltersMatchEverything) {
  EXPECT_TRUE(FlowFilterSet().matches(base()));
  Filters none;
  EXPECT_TRUE(FlowFilterSet::compile(none, none).matches(base()));
  EXPECT_TRUE(pass([](flow::FlowFilter&) {}));  // an empty filter matches too
}

TEST_F(FlowFilterTest, SourceAndDestinationIp) {
  EXPECT_TRUE(pass([](auto& f) { f.add_source_ip("10.0.1.5"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_source_ip("10.0.2.9"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_destination_ip("10.0.2.9"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_source_ip("10.0.0.0/16"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_source_ip("10.0.1.77/24"); }));  // host bits allowed
  EXPECT_FALSE(pass([](auto& f) { f.add_source_ip("10.0.2.0/24"); }));
  EXPECT_TRUE(pass([](auto& f) {
    f.add_source_ip("192.0.2.1");
    f.add_source_ip("10.0.1.5");
  }));
  EXPECT_FALSE(pass([](auto& f) { f.add_source_ip("::/0"); }));  // other family
}

TEST_F(FlowFilterTest, Ipv6Addresses) {
  Flow f = base();
  f.ip_version = 6;
  f.src_ip = *IpAddr::parse("fd00::5");
  EXPECT_TRUE(pass([](auto& x) { x.add_source_ip("fd00::/64"); }, f));
  EXPECT_TRUE(pass([](auto& x) { x.add_source_ip("fd00::5"); }, f));
  EXPECT_FALSE(pass([](auto& x) { x.add_source_ip("fd00::6"); }, f));
}

TEST_F(FlowFilterTest, PodNamespaceAndPrefix) {
  EXPECT_TRUE(pass([](auto& f) { f.add_source_pod("default/client-"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_source_pod("default/client-7d9f"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_source_pod("default/client-7d9f0"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_source_pod("prod/client-"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_source_pod("default/"); }));  // the whole namespace
  EXPECT_TRUE(pass([](auto& f) { f.add_source_pod("client"); }));    // any namespace
  EXPECT_TRUE(pass([](auto& f) { f.add_destination_pod("prod/server"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_destination_pod("default/server"); }));
}

TEST_F(FlowFilterTest, BarePodPrefixDoesNotMatchEndpointsWithoutPods) {
  Flow f = base();
  f.source = ep(2, "", "", {"reserved:world"});
  EXPECT_FALSE(pass([](auto& x) { x.add_source_pod("c"); }, f));
}

TEST_F(FlowFilterTest, NullEndpointsMatchNothingSpecific) {
  Flow f = base();
  f.source.reset();
  EXPECT_FALSE(pass([](auto& x) { x.add_source_pod("default/"); }, f));
  EXPECT_FALSE(pass([](auto& x) { x.add_source_identity(256); }, f));
  EXPECT_TRUE(pass([](auto& x) { x.add_source_label("!app"); }, f));
}

TEST_F(FlowFilterTest, Labels) {
  EXPECT_TRUE(pass([](auto& f) { f.add_source_label("app=client"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_source_label("k8s:app=client"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_source_label("app=server"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_destination_label("app=server,tier in (back,db)"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_destination_label("app=server,tier notin (back)"); }));
  // Several selectors: any may match.
  EXPECT_TRUE(pass([](auto& f) {
    f.add_destination_label("app=nope");
    f.add_destination_label("k8s:io.kubernetes.pod.namespace=prod");
  }));
}

TEST_F(FlowFilterTest, Services) {
  Flow f = base();
  f.destination_service = ServiceRef{"web", "prod"};
  EXPECT_TRUE(pass([](auto& x) { x.add_destination_service("prod/web"); }, f));
  EXPECT_TRUE(pass([](auto& x) { x.add_destination_service("web"); }, f));
  EXPECT_TRUE(pass([](auto& x) { x.add_destination_service("prod/"); }, f));
  EXPECT_FALSE(pass([](auto& x) { x.add_destination_service("default/web"); }, f));
  EXPECT_FALSE(pass([](auto& x) { x.add_destination_service("prod/api"); }));  // no service at all
  EXPECT_FALSE(pass([](auto& x) { x.add_source_service("prod/web"); }, f));   // flows never name a source service
}

TEST_F(FlowFilterTest, Identities) {
  EXPECT_TRUE(pass([](auto& f) { f.add_source_identity(256); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_source_identity(258); }));
  EXPECT_TRUE(pass([](auto& f) {
    f.add_destination_identity(1);
    f.add_destination_identity(258);
  }));
}

TEST_F(FlowFilterTest, Verdict) {
  EXPECT_TRUE(pass([](auto& f) { f.add_verdict(flow::FORWARDED); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_verdict(flow::DROPPED); }));
  Flow audit = base();
  audit.verdict = Verdict::Audit;
  EXPECT_TRUE(pass([](auto& f) { f.add_verdict(flow::AUDIT); }, audit));
}

TEST_F(FlowFilterTest, DropReasonDesc) {
  Flow d = base();
  d.verdict = Verdict::Dropped;
  d.drop_reason = 181;
  EXPECT_TRUE(pass([](auto& f) { f.add_drop_reason_desc(flow::POLICY_DENY); }, d));
  EXPECT_FALSE(pass([](auto& f) { f.add_drop_reason_desc(flow::POLICY_DENIED); }, d));
  EXPECT_FALSE(pass([](auto& f) { f.add_drop_reason_desc(flow::POLICY_DENY); }));
}

TEST_F(FlowFilterTest, EventTypeWithAndWithoutSubType) {
  EXPECT_TRUE(pass([](auto& f) { f.add_event_type()->set_type(4); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_event_type()->set_type(1); }));
  EXPECT_TRUE(pass([](auto& f) {
    auto* t = f.add_event_type();
    t->set_type(4);
    t->set_match_sub_type(true);
    t->set_sub_type(0);
  }));
  EXPECT_FALSE(pass([](auto& f) {
    auto* t = f.add_event_type();
    t->set_type(4);
    t->set_match_sub_type(true);
    t->set_sub_type(3);
  }));
  // sub_type without match_sub_type is ignored.
  EXPECT_TRUE(pass([](auto& f) {
    auto* t = f.add_event_type();
    t->set_type(4);
    t->set_sub_type(3);
  }));
}

TEST_F(FlowFilterTest, TrafficDirection) {
  EXPECT_TRUE(pass([](auto& f) { f.add_traffic_direction(flow::INGRESS); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_traffic_direction(flow::EGRESS); }));
}

TEST_F(FlowFilterTest, ProtocolNames) {
  EXPECT_TRUE(pass([](auto& f) { f.add_protocol("tcp"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_protocol("TCP"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_protocol("udp"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_protocol("http"); }));  // valid, no L7 flows
  Flow icmp6 = base();
  icmp6.protocol = IPPROTO_ICMPV6;
  EXPECT_TRUE(pass([](auto& f) { f.add_protocol("icmp"); }, icmp6));
  EXPECT_TRUE(pass([](auto& f) { f.add_protocol("icmpv6"); }, icmp6));
  EXPECT_FALSE(pass([](auto& f) { f.add_protocol("icmpv4"); }, icmp6));
  Flow sctp = base();
  sctp.protocol = IPPROTO_SCTP;
  EXPECT_TRUE(pass([](auto& f) { f.add_protocol("sctp"); }, sctp));
}

TEST_F(FlowFilterTest, Ports) {
  EXPECT_TRUE(pass([](auto& f) { f.add_destination_port("8080"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_destination_port("80"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_source_port("41234"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_source_port("8080"); }));
  Flow icmp = base();
  icmp.protocol = IPPROTO_ICMP;
  icmp.src_port = icmp.dst_port = 0;
  EXPECT_FALSE(pass([](auto& f) { f.add_destination_port("0"); }, icmp));  // ICMP has no ports
}

TEST_F(FlowFilterTest, Reply) {
  EXPECT_TRUE(pass([](auto& f) { f.add_reply(false); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_reply(true); }));
  Flow unknown = base();
  unknown.is_reply.reset();
  EXPECT_FALSE(pass([](auto& f) { f.add_reply(false); }, unknown));
  EXPECT_FALSE(pass([](auto& f) { f.add_reply(true); }, unknown));
}

TEST_F(FlowFilterTest, TcpFlagsNeedEveryFlagOfTheFilter) {
  Flow synack = base();
  synack.tcp_flags = 0x12;
  EXPECT_TRUE(pass([](auto& f) { f.add_tcp_flags()->set_syn(true); }, synack));
  EXPECT_TRUE(pass([](auto& f) { f.add_tcp_flags()->set_ack(true); }, synack));
  EXPECT_TRUE(pass([](auto& f) {
    auto* t = f.add_tcp_flags();
    t->set_syn(true);
    t->set_ack(true);
  }, synack));
  EXPECT_FALSE(pass([](auto& f) { f.add_tcp_flags()->set_fin(true); }, synack));
  EXPECT_FALSE(pass([](auto& f) {
    auto* t = f.add_tcp_flags();
    t->set_syn(true);
    t->set_rst(true);
  }, synack));
  // Any of several TCPFlags may match.
  EXPECT_TRUE(pass([](auto& f) {
    f.add_tcp_flags()->set_fin(true);
    f.add_tcp_flags()->set_syn(true);
  }, synack));
  EXPECT_FALSE(pass([](auto& f) { f.add_tcp_flags()->set_ns(true); }, synack));
  Flow udp = base();
  udp.protocol = IPPROTO_UDP;
  udp.tcp_flags = 0x02;
  EXPECT_FALSE(pass([](auto& f) { f.add_tcp_flags()->set_syn(true); }, udp));
  Flow every = base();
  every.tcp_flags = 0xff;
  EXPECT_TRUE(pass([](auto& f) {
    auto* t = f.add_tcp_flags();
    t->set_fin(true), t->set_syn(true), t->set_rst(true), t->set_psh(true);
    t->set_ack(true), t->set_urg(true), t->set_ece(true), t->set_cwr(true);
  }, every));
}

TEST_F(FlowFilterTest, NodeNameGlobs) {
  EXPECT_TRUE(pass([](auto& f) { f.add_node_name("kind-worker"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_node_name("kind-*"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_node_name("*worker"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_node_name("*"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_node_name("kind-control-plane"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_node_name("kind"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_node_name("default/kind-*"); }));
  EXPECT_TRUE(pass([](auto& f) { f.add_node_name("*/kind-worker"); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_node_name("mesh2/kind-worker"); }));
  Flow dotted = base();
  dotted.node_name = "ip-10-0-0-1.ec2.internal";
  EXPECT_FALSE(pass([](auto& f) { f.add_node_name("ip-*"); }, dotted));  // '*' stays within a DNS label
  EXPECT_TRUE(pass([](auto& f) { f.add_node_name("ip-*.ec2.*"); }, dotted));
}

TEST_F(FlowFilterTest, IpVersion) {
  EXPECT_TRUE(pass([](auto& f) { f.add_ip_version(flow::IPv4); }));
  EXPECT_FALSE(pass([](auto& f) { f.add_ip_version(flow::IPv6); }));
}

TEST_F(FlowFilterTest, FieldsOfOneFilterAreAnded) {
  EXPECT_TRUE(pass([](auto& f) {
    f.add_source_pod("default/");
    f.add_verdict(flow::FORWARDED);
    f.add_destination_port("8080");
  }));
  EXPECT_FALSE(pass([](auto& f) {
    f.add_source_pod("default/");
    f.add_verdict(flow::DROPPED);
  }));
}

TEST_F(FlowFilterTest, WhitelistFiltersAreOredAndBlacklistWins) {
  Flow client_to_server = base();
  Flow server_to_client = base();
  std::swap(server_to_client.source, server_to_client.destination);
  Flow other = base();
  other.source = ep(300, "kube-system", "coredns-1", {});
  other.destination = ep(301, "kube-system", "api-1", {});

  // hubble observe --pod default/client: two filters, from or to.
  Filters white, black;
  white.Add()->add_source_pod("default/client");
  white.Add()->add_destination_pod("default/client");
  auto set = FlowFilterSet::compile(white, black);
  EXPECT_TRUE(set.matches(client_to_server));
  EXPECT_TRUE(set.matches(server_to_client));
  EXPECT_FALSE(set.matches(other));

  // --not --verdict FORWARDED removes what the whitelist let in.
  black.Add()->add_verdict(flow::FORWARDED);
  auto set2 = FlowFilterSet::compile(white, black);
  EXPECT_FALSE(set2.matches(client_to_server));
  Flow dropped = base();
  dropped.verdict = Verdict::Dropped;
  EXPECT_TRUE(set2.matches(dropped));

  // A blacklist alone lets everything else through.
  Filters none;
  auto set3 = FlowFilterSet::compile(none, black);
  EXPECT_TRUE(set3.matches(dropped));
  EXPECT_FALSE(set3.matches(other));
}

TEST_F(FlowFilterTest, FilterSetIsMovable) {
  Filters white, black;
  white.Add()->add_verdict(flow::DROPPED);
  FlowFilterSet a = FlowFilterSet::compile(white, black);
  FlowFilterSet b;
  b = std::move(a);
  EXPECT_FALSE(b.matches(base()));
}

TEST_F(FlowFilterTest, ErrorsNameTheFieldAndValue) {
  EXPECT_EQ(error([](auto& f) {
              f.add_source_ip("10.0.0.1");
              f.add_source_ip("10.0.0.300");
            }),
            "whitelist[0].source_ip[1]: \"10.0.0.300\" is not an IP address or CIDR");
  EXPECT_EQ(error([](auto& f) { f.add_destination_ip("10.0.0.0/33"); }),
            "whitelist[0].destination_ip[0]: \"10.0.0.0/33\" is not an IP address or CIDR");
  EXPECT_EQ(error([](auto& f) { f.add_destination_port("http"); }),
            "whitelist[0].destination_port[0]: \"http\" is not a port number (0-65535)");
  EXPECT_EQ(error([](auto& f) { f.add_source_port("65536"); }),
            "whitelist[0].source_port[0]: \"65536\" is not a port number (0-65535)");
  EXPECT_EQ(error([](auto& f) { f.add_protocol("gre"); }),
            "whitelist[0].protocol[0]: unknown protocol \"gre\" (tcp, udp, sctp, icmp, icmpv4, icmpv6, http, dns, kafka)");
  EXPECT_EQ(error([](auto& f) { f.add_source_pod("/x"); }),
            "whitelist[0].source_pod[0]: \"/x\" has an empty namespace (want [namespace/][name-prefix])");
  EXPECT_EQ(error([](auto& f) { f.add_destination_pod("a/b/c"); }),
            "whitelist[0].destination_pod[0]: \"a/b/c\" has more than one '/' (want [namespace/][name-prefix])");
  EXPECT_EQ(error([](auto& f) { f.add_source_service(""); }),
            "whitelist[0].source_service[0]: empty name (want [namespace/][name-prefix])");
  EXPECT_EQ(error([](auto& f) { f.add_source_label("app in ("); }),
            "whitelist[0].source_label[0]: expected ',' or ')' at position 8 of label selector \"app in (\"");
  EXPECT_EQ(error([](auto& f) { f.add_verdict(static_cast<flow::Verdict>(42)); }),
            "whitelist[0].verdict[0]: unknown verdict 42");
  EXPECT_EQ(error([](auto& f) { f.add_drop_reason_desc(static_cast<flow::DropReason>(159)); }),
            "whitelist[0].drop_reason_desc[0]: unknown drop reason 159");
  EXPECT_EQ(error([](auto& f) { f.add_traffic_direction(static_cast<flow::TrafficDirection>(5)); }),
            "whitelist[0].traffic_direction[0]: unknown traffic direction 5");
  EXPECT_EQ(error([](auto& f) { f.add_ip_version(static_cast<flow::IPVersion>(3)); }),
            "whitelist[0].ip_version[0]: unknown IP version 3");
  EXPECT_EQ(error([](auto& f) { f.add_node_name("/x"); }),
            "whitelist[0].node_name[0]: \"/x\" is not a node name pattern (want [cluster/]node, '*' as wildcard)");
  EXPECT_EQ(error([](auto& f) { f.add_node_name(""); }), "whitelist[0].node_name[0]: empty node name pattern");
}

TEST_F(FlowFilterTest, UnsupportedFieldsAreErrors) {
  const std::vector<std::pair<std::string, std::function<void(flow::FlowFilter&)>>> cases = {
      {"uuid", [](auto& f) { f.add_uuid("x"); }},
      {"source_fqdn", [](auto& f) { f.add_source_fqdn("example.com"); }},
      {"destination_fqdn", [](auto& f) { f.add_destination_fqdn("example.com"); }},
      {"source_workload", [](auto& f) { f.add_source_workload()->set_name("w"); }},
      {"destination_workload", [](auto& f) { f.add_destination_workload()->set_name("w"); }},
      {"http_status_code", [](auto& f) { f.add_http_status_code("200"); }},
      {"dns_query", [](auto& f) { f.add_dns_query("x"); }},
      {"http_method", [](auto& f) { f.add_http_method("GET"); }},
      {"http_path", [](auto& f) { f.add_http_path("/"); }},
      {"trace_id", [](auto& f) { f.add_trace_id("t"); }},
  };
  for (const auto& [field, build] : cases)
    EXPECT_EQ(error(build), "whitelist[0]." + field + ": filtering on this field is not supported") << field;
}

TEST_F(FlowFilterTest, ErrorsNameTheListAndFilterIndex) {
  Filters white, black;
  white.Add()->add_verdict(flow::DROPPED);
  black.Add()->add_protocol("tcp");
  black.Add()->add_source_ip("nope");
  try {
    FlowFilterSet::compile(white, black);
    FAIL() << "no error";
  } catch (const FilterError& e) {
    EXPECT_EQ(std::string(e.what()), "blacklist[1].source_ip[0]: \"nope\" is not an IP address or CIDR");
  }
}

}  // namespace
}  // namespace cpp::hubble
