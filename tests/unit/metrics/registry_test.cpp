// Registry and text exposition format 0.0.4: HELP/TYPE lines, escaping,
// histogram series, name checks, collectors, concurrent increments.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "metrics/exposition.h"
#include "metrics/registry.h"

using namespace cpp::metrics;

namespace {
bool contains(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }
}  // namespace

TEST(Exposition, CounterWithLabelsHasHelpTypeAndSample) {
  Registry r;
  auto& c = r.counter("cilium_policy_change_total", "Number of policy changes by outcome", {"outcome"});
  c.with({"success"}).inc();
  c.with({"success"}).inc(2);
  c.with({"fail"}).inc();
  EXPECT_EQ(r.render(),
            "# HELP cilium_policy_change_total Number of policy changes by outcome\n"
            "# TYPE cilium_policy_change_total counter\n"
            "cilium_policy_change_total{outcome=\"fail\"} 1\n"
            "cilium_policy_change_total{outcome=\"success\"} 3\n");
}

TEST(Exposition, CounterIgnoresNegativeIncrements) {
  Registry r;
  auto& c = r.counter("x_total", "x").get();
  c.inc(5);
  c.inc(-3);
  EXPECT_EQ(c.value(), 5);
}

TEST(Exposition, GaugeGoesBothWaysAndFamiliesAreSortedByName) {
  Registry r;
  auto& g = r.gauge("b_gauge", "b").get();
  r.gauge("a_gauge", "a").get().set(-1.5);
  g.set(10);
  g.dec(3);
  g.inc(0.25);
  EXPECT_EQ(r.render(),
            "# HELP a_gauge a\n# TYPE a_gauge gauge\na_gauge -1.5\n"
            "# HELP b_gauge b\n# TYPE b_gauge gauge\nb_gauge 7.25\n");
}

TEST(Exposition, EscapesHelpAndLabelValues) {
  Registry r;
  r.gauge("g", "line1\nback\\slash \"quotes\" stay").get();
  r.gauge("h", "h", {"l"}).with({"a\\b\"c\nd"}).set(1);
  auto text = r.render();
  EXPECT_TRUE(contains(text, "# HELP g line1\\nback\\\\slash \"quotes\" stay\n")) << text;
  EXPECT_TRUE(contains(text, "h{l=\"a\\\\b\\\"c\\nd\"} 1\n")) << text;
}

TEST(Exposition, FormatsSpecialValues) {
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(123456789012), "123456789012");
}

TEST(Exposition, HistogramHasCumulativeBucketsSumAndCount) {
  Registry r;
  auto& h = r.histogram("api_seconds", "API time", {"path"}, {0.1, 1, 10});
  auto& child = h.with({"/v1/config"});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0}) child.observe(v);
  EXPECT_EQ(r.render(),
            "# HELP api_seconds API time\n"
            "# TYPE api_seconds histogram\n"
            "api_seconds_bucket{path=\"/v1/config\",le=\"0.1\"} 2\n"
            "api_seconds_bucket{path=\"/v1/config\",le=\"1\"} 3\n"
            "api_seconds_bucket{path=\"/v1/config\",le=\"10\"} 4\n"
            "api_seconds_bucket{path=\"/v1/config\",le=\"+Inf\"} 5\n"
            "api_seconds_sum{path=\"/v1/config\"} 22.65\n"
            "api_seconds_count{path=\"/v1/config\"} 5\n");
}

TEST(Exposition, HistogramDefaultBucketsAndExplicitInfIsNotDoubled) {
  Registry r;
  r.histogram("d", "d", {}).get().observe(3);
  auto text = r.render();
  EXPECT_TRUE(contains(text, "d_bucket{le=\"0.005\"} 0\n")) << text;
  EXPECT_TRUE(contains(text, "d_bucket{le=\"2.5\"} 0\n")) << text;
  EXPECT_TRUE(contains(text, "d_bucket{le=\"5\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "d_bucket{le=\"+Inf\"} 1\n")) << text;
  r.histogram("e", "e", {}, {1, std::numeric_limits<double>::infinity()}).get().observe(2);
  text = r.render();
  EXPECT_EQ(text.find("e_bucket{le=\"+Inf\"}"), text.rfind("e_bucket{le=\"+Inf\"}"));
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

TEST(Registry, RejectsBadNames) {
  Registry r;
  EXPECT_THROW(r.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {}, {2, 1}), std::invalid_argument);
  EXPECT_NO_THROW(r.counter("ns:sub_total", "colons are allowed in metric names"));
  try {
    r.counter("x", "x", {"bad-label"});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bad-label"), std::string::npos) << e.what();
  }
}

TEST(Registry, RejectsDuplicatesAndWrongLabelCounts) {
  Registry r;
  auto& c = r.counter("dup_total", "x", {"a", "b"});
  EXPECT_THROW(r.gauge("dup_total", "x"), std::invalid_argument);
  try {
    c.with({"only-one"});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("dup_total"), std::string::npos) << e.what();
  }
  EXPECT_EQ(&c.with({"1", "2"}), &c.with({"1", "2"}));
}

TEST(Registry, CollectorsRunAtScrapeTimeAndMerge) {
  Registry r;
  int calls = 0;
  r.add_collector([&] {
    ++calls;
    return std::vector<FamilySnapshot>{{"m", "from collector", Type::Gauge, {{{{"k", "a"}}, 1, ""}}}};
  });
  r.add_collector([&] {
    return std::vector<FamilySnapshot>{{"m", "from collector", Type::Gauge, {{{{"k", "b"}}, 2, ""}}}};
  });
  r.add_collector([]() -> std::vector<FamilySnapshot> { throw std::runtime_error("map gone"); });
  auto text = r.render();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(text, "# HELP m from collector\n# TYPE m gauge\nm{k=\"a\"} 1\nm{k=\"b\"} 2\n");
  r.render();
  EXPECT_EQ(calls, 2);
}

TEST(Registry, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& fam = r.counter("c_total", "c", {"t"});
  auto& hist = r.histogram("h_seconds", "h", {}, {0.5});
  constexpr int kThreads = 8, kPerThread = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        fam.with({t % 2 ? "odd" : "even"}).inc();
        hist.get().observe(i % 2 ? 1.0 : 0.25);
      }
    });
  // Scrapes race with the writers and must stay well-formed.
  for (int i = 0; i < 20; ++i) {
    auto snap = hist.get().snapshot();
    EXPECT_LE(snap.cumulative[0], snap.cumulative[1]);
    r.render();
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(fam.with({"odd"}).value(), kThreads / 2 * kPerThread);
  EXPECT_EQ(fam.with({"even"}).value(), kThreads / 2 * kPerThread);
  auto s = hist.get().snapshot();
  EXPECT_EQ(s.cumulative.back(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.cumulative[0], uint64_t{kThreads} * kPerThread / 2);
  EXPECT_DOUBLE_EQ(s.sum, kThreads * (kPerThread / 2) * 1.25);
}
