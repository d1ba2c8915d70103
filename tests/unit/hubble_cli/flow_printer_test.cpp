#include "hubble_cli/flow_printer.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_flows.h"

using namespace cpp::hubble_cli;
using namespace cpp::hubble_cli::test;

namespace {

observer::GetFlowsResponse resp(const flow::Flow& f) {
  observer::GetFlowsResponse r;
  *r.mutable_flow() = f;
  r.set_node_name(f.node_name());
  *r.mutable_time() = f.time();
  return r;
}

std::string print(OutputFormat fmt, const std::vector<flow::Flow>& flows, bool node = false) {
  std::ostringstream out;
  FlowPrinter p(out, {fmt, node});
  for (const auto& f : flows) p.write(resp(f));
  p.finish();
  return out.str();
}

}  // namespace

TEST(FlowPrinter, CompactPolicyVerdictAllowedNamesThePolicy) {
  EXPECT_EQ(print(OutputFormat::Compact, {allowed_verdict()}),
            "Nov 26 22:01:02.123: front/fe:41234 (ID:256) -> back/be:8080 (ID:258) policy-verdict:L3-L4 INGRESS "
            "ALLOWED (TCP Flags: SYN) policy: back/backend-allow\n");
}

TEST(FlowPrinter, CompactPolicyDropShowsReasonAndDenyingPolicy) {
  EXPECT_EQ(print(OutputFormat::Compact, {policy_drop()}),
            "Nov 26 22:01:02.123: front/fe:41234 (ID:256) -> back/be:8080 (ID:258) Policy denied DROPPED (TCP Flags: "
            "SYN) policy: back/deny-front\n");
}

TEST(FlowPrinter, CompactNamesTheDecidingRule) {
  flow::Flow f = policy_drop();
  f.mutable_ingress_denied_by(0)->set_rule("spec.ingressDeny[0]");
  EXPECT_EQ(print(OutputFormat::Compact, {f}),
            "Nov 26 22:01:02.123: front/fe:41234 (ID:256) -> back/be:8080 (ID:258) Policy denied DROPPED (TCP Flags: "
            "SYN) policy: back/deny-front spec.ingressDeny[0]\n");
}

TEST(FlowPrinter, CompactDeniedVerdictAndNodeName) {
  flow::Flow f = allowed_verdict();
  f.set_verdict(flow::DROPPED);
  f.clear_ingress_allowed_by();
  std::string out = print(OutputFormat::Compact, {f}, true);
  EXPECT_EQ(out.rfind("Nov 26 22:01:02.123 [node-a]: ", 0), 0u) << out;
  EXPECT_NE(out.find("policy-verdict:L3-L4 INGRESS DENIED"), std::string::npos) << out;
  EXPECT_EQ(out.find("policy:"), std::string::npos) << out;
}

TEST(FlowPrinter, CompactReplyFlipsAndUnknownDirection) {
  flow::Flow f = trace_to_endpoint();
  f.mutable_is_reply()->set_value(true);
  EXPECT_NE(print(OutputFormat::Compact, {f}).find("back/be:8080 (ID:258) <- front/fe:41234 (ID:256) to-endpoint FORWARDED"),
            std::string::npos);
  f.clear_is_reply();
  EXPECT_NE(print(OutputFormat::Compact, {f}).find(" <> "), std::string::npos);
}

TEST(FlowPrinter, CompactWithoutPodsUsesIpsReservedIdentitiesAndService) {
  flow::Flow f = trace_to_endpoint();
  f.clear_source();
  f.mutable_source()->set_identity(2);
  f.mutable_destination()->clear_pod_name();
  f.mutable_destination_service()->set_name("backend");
  f.mutable_destination_service()->set_namespace_("back");
  f.mutable_ip()->set_source("fd00::1");
  std::string out = print(OutputFormat::Compact, {f});
  EXPECT_NE(out.find(": [fd00::1]:41234 (world) -> back/backend:8080 (ID:258) "), std::string::npos) << out;
}

TEST(FlowPrinter, CompactTraceSockNamesTheTranslationPointAndService) {
  flow::Flow f = tcp_flow();
  f.set_type(flow::SOCK);
  f.set_verdict(flow::TRACED);
  f.mutable_event_type()->set_type(7);
  f.mutable_event_type()->set_sub_type(1);
  f.set_sock_xlate_point(flow::SOCK_XLATE_POINT_PRE_DIRECTION_FWD);
  f.clear_is_reply();
  f.mutable_ip()->set_destination("10.96.0.10");
  f.mutable_l4()->mutable_tcp()->set_source_port(0);
  f.mutable_l4()->mutable_tcp()->set_destination_port(80);
  f.mutable_l4()->mutable_tcp()->clear_flags();
  f.mutable_destination()->Clear();
  f.mutable_destination_service()->set_name("web");
  f.mutable_destination_service()->set_namespace_("back");
  f.set_summary("TCP");
  EXPECT_EQ(print(OutputFormat::Compact, {f}),
            "Nov 26 22:01:02.123: front/fe (ID:256) <> back/web:80 (unknown) pre-xlate-fwd TRACED (TCP)\n");
  f.set_sock_xlate_point(flow::SOCK_XLATE_POINT_POST_DIRECTION_FWD);
  f.set_verdict(flow::TRANSLATED);
  EXPECT_NE(print(OutputFormat::Compact, {f}).find(" post-xlate-fwd TRANSLATED (TCP)"), std::string::npos);
}

TEST(FlowPrinter, Dict) {
  std::string out = print(OutputFormat::Dict, {policy_drop(), trace_to_endpoint()});
  EXPECT_EQ(out,
            "  TIMESTAMP: Nov 26 22:01:02.123\n"
            "     SOURCE: front/fe:41234\n"
            "DESTINATION: back/be:8080\n"
            "       TYPE: Policy denied\n"
            "    VERDICT: DROPPED\n"
            "    SUMMARY: TCP Flags: SYN\n"
            "     POLICY: back/deny-front\n"
            "------------\n"
            "  TIMESTAMP: Nov 26 22:01:02.123\n"
            "     SOURCE: front/fe:41234\n"
            "DESTINATION: back/be:8080\n"
            "       TYPE: to-endpoint\n"
            "    VERDICT: FORWARDED\n"
            "    SUMMARY: TCP Flags: SYN\n");
}

TEST(FlowPrinter, JsonIsOneResponseObjectPerLineWithProtoNames) {
  for (auto fmt : {OutputFormat::Json, OutputFormat::JsonPb}) {
    std::string out = print(fmt, {policy_drop(), allowed_verdict()});
    std::istringstream lines(out);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j["node_name"], "node-a");
      EXPECT_EQ(j["time"], "2026-11-26T22:01:02.123Z");
      EXPECT_EQ(j["flow"]["source"]["pod_name"], "fe");
      EXPECT_EQ(j["flow"]["IP"]["source"], "10.0.0.1");
      EXPECT_EQ(j["flow"]["l4"]["TCP"]["destination_port"], 8080);
      ++n;
    }
    ASSERT_EQ(n, 2);
    auto first = nlohmann::json::parse(out.substr(0, out.find('\n')));
    EXPECT_EQ(first["flow"]["verdict"], "DROPPED");
    EXPECT_EQ(first["flow"]["drop_reason_desc"], "POLICY_DENIED");
    EXPECT_EQ(first["flow"]["ingress_denied_by"][0]["name"], "deny-front");
  }
}

TEST(FlowPrinter, TableAlignsColumnsUnderAHeader) {
  std::string out = print(OutputFormat::Table, {policy_drop(), allowed_verdict()});
  std::istringstream lines(out);
  std::string header, row1, row2;
  std::getline(lines, header);
  std::getline(lines, row1);
  std::getline(lines, row2);
  EXPECT_EQ(header.rfind("TIMESTAMP", 0), 0u);
  auto col = header.find("VERDICT");
  ASSERT_NE(col, std::string::npos);
  EXPECT_EQ(row1.substr(col, 7), "DROPPED");
  EXPECT_EQ(row2.substr(col, 7), "ALLOWED");
  EXPECT_EQ(row1.substr(header.find("SOURCE"), 14), "front/fe:41234");
}

TEST(FlowPrinter, LostEventsArePrinted) {
  observer::GetFlowsResponse r;
  r.mutable_lost_events()->set_source(flow::HUBBLE_RING_BUFFER);
  r.mutable_lost_events()->set_num_events_lost(42);
  std::ostringstream out;
  FlowPrinter p(out, {OutputFormat::Compact, false});
  p.write(r);
  EXPECT_EQ(out.str(), "N/A: EVENTS LOST: HUBBLE_RING_BUFFER 42\n");
}

TEST(FlowPrinter, OutputFormatNames) {
  EXPECT_EQ(parse_output_format("jsonpb"), OutputFormat::JsonPb);
  EXPECT_EQ(parse_output_format("table"), OutputFormat::Table);
  EXPECT_THROW(parse_output_format("yaml"), std::invalid_argument);
}

TEST(FlowPrinter, SummaryFallbacks) {
  flow::Flow f = tcp_flow();
  f.clear_summary();
  f.mutable_l4()->mutable_tcp()->mutable_flags()->set_ack(true);
  EXPECT_EQ(flow_summary(f), "TCP Flags: SYN, ACK");
  f.mutable_l4()->mutable_udp();
  EXPECT_EQ(flow_summary(f), "UDP");
}
