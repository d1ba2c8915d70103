// `-o table --follow`: the header and each row go out as flows arrive,
// aligned with 3 spaces of padding; columns only ever widen.
#include "hubble_cli/table_stream.h"

#include <sstream>

#include <gtest/gtest.h>

#include "test_flows.h"

using namespace cpp::hubble_cli;
using namespace cpp::hubble_cli::test;

namespace {

observer::GetFlowsResponse response(const flow::Flow& f) {
  observer::GetFlowsResponse r;
  *r.mutable_flow() = f;
  return r;
}

}  // namespace

TEST(TableStream, RowsGoOutAsTheyArrive) {
  std::ostringstream out;
  TableStream table(out, false);
  table.write(response(policy_drop()));
  EXPECT_EQ(out.str(),
            "TIMESTAMP             SOURCE           DESTINATION    TYPE            VERDICT   SUMMARY\n"
            "Nov 26 22:01:02.123   front/fe:41234   back/be:8080   Policy denied   DROPPED   TCP Flags: SYN\n");
  out.str("");
  table.write(response(trace_to_endpoint()));
  EXPECT_EQ(out.str(), "Nov 26 22:01:02.123   front/fe:41234   back/be:8080   to-endpoint     FORWARDED   TCP Flags: SYN\n");
  out.str("");
  // A wider cell widens its column from that row on.
  flow::Flow wide = trace_to_endpoint();
  wide.mutable_source()->set_pod_name("frontend-7d9f8c6b5-abcde");
  table.write(response(wide));
  table.write(response(trace_to_endpoint()));
  EXPECT_EQ(out.str(),
            "Nov 26 22:01:02.123   front/frontend-7d9f8c6b5-abcde:41234   back/be:8080   to-endpoint     FORWARDED   "
            "TCP Flags: SYN\n"
            "Nov 26 22:01:02.123   front/fe:41234                         back/be:8080   to-endpoint     FORWARDED   "
            "TCP Flags: SYN\n");
}

TEST(TableStream, NodeColumnAndLostEvents) {
  std::ostringstream out;
  TableStream table(out, true);
  observer::GetFlowsResponse lost;
  lost.mutable_lost_events()->set_source(flow::HUBBLE_RING_BUFFER);
  lost.mutable_lost_events()->set_num_events_lost(7);
  table.write(lost);
  table.write(response(allowed_verdict()));
  EXPECT_EQ(out.str(),
            "TIMESTAMP             NODE   SOURCE   DESTINATION   TYPE   VERDICT   SUMMARY\n"
            "N/A: EVENTS LOST: HUBBLE_RING_BUFFER 7\n"
            "Nov 26 22:01:02.123   node-a   front/fe:41234   back/be:8080   policy-verdict:L3-L4 INGRESS   ALLOWED   "
            "TCP Flags: SYN\n");
}
