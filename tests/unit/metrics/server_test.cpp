// The /metrics HTTP server on a real socket, address parsing, and process
// metrics from /proc.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <ctime>

#include "metrics/process.h"
#include "metrics/server.h"

using namespace cpp::metrics;

TEST(ListenAddress, ParsesUpstreamForms) {
  auto a = parse_listen_address(":9962");
  EXPECT_EQ(a.host, "");
  EXPECT_EQ(a.port, 9962);
  a = parse_listen_address("127.0.0.1:0");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 0);
  a = parse_listen_address("[::1]:9963");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 9963);
  EXPECT_THROW(parse_listen_address("9962"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("host:"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("host:70000"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address("host:9x"), std::invalid_argument);
}

TEST(MetricsServer, ServesTheRegistryOnARandomPort) {
  Registry r;
  auto& c = r.counter("served_total", "served", {}).get();
  MetricsServer s("127.0.0.1:0", r);
  s.start();
  ASSERT_GT(s.port(), 0);
  httplib::Client cl("127.0.0.1", s.port());
  auto res = cl.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kTextContentType);
  EXPECT_NE(res->body.find("served_total 0\n"), std::string::npos) << res->body;
  c.inc();
  res = cl.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("served_total 1\n"), std::string::npos) << res->body;
  res = cl.Get("/other");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  s.stop();
  EXPECT_FALSE(httplib::Client("127.0.0.1", s.port()).Get("/metrics"));
}

TEST(MetricsServer, AllAddressesAnswersOnLoopback) {
  Registry r;
  MetricsServer s(":0", r);
  s.start();
  auto res = httplib::Client("127.0.0.1", s.port()).Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(MetricsServer, BusyPortIsAnError) {
  Registry r;
  MetricsServer a("127.0.0.1:0", r);
  a.start();
  MetricsServer b("127.0.0.1:" + std::to_string(a.port()), r);
  try {
    b.start();
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(a.port())), std::string::npos) << e.what();
  }
}

TEST(ProcessMetrics, ParsesStatWithAnAwkwardCommandName) {
  // pid (comm) state ppid ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24)
  std::string stat = "42 (a) (b c) S 1 2 3 4 5 6 7 8 9 10 300 100 0 0 20 0 1 0 5000 1048576 256 rest";
  auto s = parse_proc_stat(stat, 100, 4096, 1000);
  EXPECT_DOUBLE_EQ(s.cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s.start_time_seconds, 1050.0);
  EXPECT_DOUBLE_EQ(s.virtual_bytes, 1048576);
  EXPECT_DOUBLE_EQ(s.resident_bytes, 256 * 4096);
  EXPECT_THROW(parse_proc_stat("42 (x) S 1 2", 100, 4096, 0), std::runtime_error);
  EXPECT_THROW(parse_proc_stat("no parens", 100, 4096, 0), std::runtime_error);
}

TEST(ProcessMetrics, ReadsThisProcess) {
  auto s = read_self();
  EXPECT_GT(s.resident_bytes, 0);
  EXPECT_GT(s.virtual_bytes, s.resident_bytes);
  EXPECT_GT(s.open_fds, 2);
  EXPECT_GE(s.max_fds, s.open_fds);
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(s.start_time_seconds, now + 1);
  EXPECT_GT(s.start_time_seconds, now - 3600);
  Registry r;
  add_process_collector(r, "cilium_operator");
  auto text = r.render();
  EXPECT_NE(text.find("# TYPE cilium_operator_process_cpu_seconds_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cilium_operator_process_resident_memory_bytes "), std::string::npos) << text;
  EXPECT_NE(text.find("cilium_operator_process_start_time_seconds "), std::string::npos) << text;
}
