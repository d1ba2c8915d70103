#include <gtest/gtest.h>

#include "k8s/client/watch_stream.h"

using namespace cpp::k8s;

TEST(WatchDecoder, EventsSplitAcrossChunks) {
  WatchDecoder d;
  std::string body =
      R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})"
      "\n"
      R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})"
      "\n";
  std::vector<WatchEvent> all;
  for (size_t i = 0; i < body.size(); i += 7) {
    auto got = d.feed(body.data() + i, std::min<size_t>(7, body.size() - i));
    all.insert(all.end(), got.begin(), got.end());
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].type, "ADDED");
  EXPECT_EQ(all[0].object["metadata"]["name"], "a");
  EXPECT_EQ(all[1].type, "BOOKMARK");
  EXPECT_TRUE(d.feed("\n\r\n", 3).empty());  // blank lines are keep-alives
}

TEST(WatchDecoder, GoneAndGarbage) {
  WatchDecoder d;
  std::string gone = R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
                     "\n";
  auto ev = d.feed(gone.data(), gone.size());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(error_code(ev[0]), 410);
  WatchDecoder g;
  EXPECT_THROW(g.feed("<html>\n", 7), std::invalid_argument);
  WatchDecoder h;
  std::string no_object = R"({"type":"ADDED"})"
                          "\n";
  EXPECT_THROW(h.feed(no_object.data(), no_object.size()), std::invalid_argument);
}
