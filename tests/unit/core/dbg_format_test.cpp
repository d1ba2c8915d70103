#include <gtest/gtest.h>

#include "dbg/format.h"

using nlohmann::json;

TEST(DbgFormat, TableAlignsColumns) {
  auto t = cpp::dbg::render_table({"A", "LONGER"}, {{"xxxx", "1"}, {"y", "22"}});
  EXPECT_EQ(t, "A     LONGER\nxxxx  1\ny     22\n");
}

TEST(DbgFormat, EndpointListShowsIdsAddressesAndLabels) {
  json eps = json::array({{{"id", 12},
                           {"identity", 0},
                           {"labels", {{"k8s:app", "web"}}},
                           {"addressing", {{"ipv4", "10.233.64.2"}, {"ipv6", "fd00::2"}}},
                           {"state", "ready"},
                           {"k8s-namespace", "default"},
                           {"k8s-pod-name", "web-0"}}});
  auto out = cpp::dbg::format_endpoint_list(eps);
  EXPECT_NE(out.find("ENDPOINT"), std::string::npos);
  EXPECT_NE(out.find("k8s:app=web"), std::string::npos);
  EXPECT_NE(out.find("10.233.64.2"), std::string::npos);
  EXPECT_NE(out.find("default/web-0"), std::string::npos);
}

TEST(DbgFormat, BpfEndpointListMarksHostEntries) {
  json entries = json::array({{{"address", "10.233.64.1"}, {"host", true}},
                              {{"address", "10.233.64.2"}, {"host", false}, {"id", 3}, {"ifindex", 9}}});
  auto out = cpp::dbg::format_bpf_endpoint_list(entries);
  EXPECT_NE(out.find("(localhost)"), std::string::npos);
  EXPECT_NE(out.find("id=3"), std::string::npos);
  EXPECT_NE(out.find("ifindex=9"), std::string::npos);
}
