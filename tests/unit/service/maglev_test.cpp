#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "service/model.h"

using namespace cpp::service;

namespace {

std::vector<std::string> names(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":8080/TCP");
  return out;
}

// Entries whose backend (by name) differs between two tables.
double changed_fraction(const std::vector<uint32_t>& a, const std::vector<std::string>& an,
                        const std::vector<uint32_t>& b, const std::vector<std::string>& bn) {
  size_t changed = 0;
  for (size_t i = 0; i < a.size(); ++i) changed += an[a[i]] != bn[b[i]];
  return double(changed) / double(a.size());
}

}  // namespace

TEST(Maglev, EveryEntryValidAndBalanced) {
  for (size_t n : {1, 2, 3, 5, 10, 100, 1000}) {
    auto be = names(n);
    auto t = maglev_table(be);
    ASSERT_EQ(t.size(), 16381u);
    std::vector<size_t> count(n);
    for (auto e : t) {
      ASSERT_LT(e, n);
      ++count[e];
    }
    auto [mn, mx] = std::minmax_element(count.begin(), count.end());
    // Backends take turns, so shares differ by at most one entry.
    EXPECT_LE(*mx - *mn, 1u) << "n=" << n;
    EXPECT_NEAR(double(*mn), 16381.0 / n, 16381.0 / n * 0.03 + 1) << "n=" << n;
  }
}

TEST(Maglev, RemovingOneBackendMovesAboutOneNth) {
  for (size_t n : {3, 5, 10, 100}) {
    auto be = names(n);
    auto full = maglev_table(be);
    double worst = 0;
    for (size_t gone = 0; gone < n; ++gone) {
      auto less = be;
      less.erase(less.begin() + gone);
      auto t = maglev_table(less);
      double f = changed_fraction(full, be, t, less);
      worst = std::max(worst, f);
      // The removed backend's entries must move; at least 1/N changes.
      EXPECT_GE(f, 1.0 / n - 0.001);
    }
    // About 1/N, plus a slack for the entries the remaining backends
    // reshuffle (it grows as m/N shrinks: ~1.3% at N=100, m=16381).
    EXPECT_LE(worst, 1.0 / n + 0.015) << "n=" << n;
    std::printf("maglev n=%zu worst changed fraction on removal %.4f (1/N=%.4f)\n", n, worst, 1.0 / n);
  }
}

TEST(Maglev, FlowsMoveOnlyFromTheRemovedBackendMostly) {
  const size_t n = 10;
  auto be = names(n);
  auto full = maglev_table(be);
  auto less = be;
  less.erase(less.begin() + 4);
  auto t = maglev_table(less);
  std::mt19937_64 rng(42);
  size_t moved = 0, flows = 20000, on_removed = 0;
  for (size_t i = 0; i < flows; ++i) {
    uint64_t h = rng();
    const std::string& before = be[maglev_pick(full, h)];
    const std::string& after = less[maglev_pick(t, h)];
    if (before == be[4]) {
      ++on_removed;
      EXPECT_NE(after, before);
    }
    moved += before != after;
  }
  EXPECT_GT(on_removed, 0u);
  EXPECT_LE(double(moved) / flows, 1.0 / n + 0.015);
}

TEST(Maglev, DeterministicAndOrderIndependent) {
  auto be = names(7);
  auto a = maglev_table(be);
  EXPECT_EQ(a, maglev_table(be));
  auto rev = be;
  std::reverse(rev.begin(), rev.end());
  auto b = maglev_table(rev);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(be[a[i]], rev[b[i]]);
  // Pinned values: every node and every version must compute the same table.
  EXPECT_EQ(stable_hash("10.0.0.1:8080/TCP", 1), stable_hash("10.0.0.1:8080/TCP", 1));
  EXPECT_NE(stable_hash("10.0.0.1:8080/TCP", 1), stable_hash("10.0.0.1:8080/TCP", 2));
  EXPECT_EQ(stable_hash("", 0), 17280346270528514342ULL);
  std::vector<uint32_t> head(a.begin(), a.begin() + 8);
  EXPECT_EQ(head, (std::vector<uint32_t>{0, 2, 5, 6, 2, 6, 3, 1}));
}

TEST(Maglev, SmallTableAndErrors) {
  auto t = maglev_table({"a", "b", "c"}, 7);
  EXPECT_EQ(t.size(), 7u);
  EXPECT_TRUE(maglev_table({}, 7).empty());
  EXPECT_THROW(maglev_table({"a"}, 8), std::invalid_argument);
  EXPECT_THROW(maglev_table({"a", "a"}, 7), std::invalid_argument);
  EXPECT_THROW(maglev_table(names(8), 7), std::invalid_argument);
  EXPECT_THROW(maglev_pick({}, 1), std::invalid_argument);
  EXPECT_EQ(maglev_pick(t, 9), t[2]);
}
