#include <gtest/gtest.h>

#include "k8s/client/object_cache.h"

using namespace cpp::k8s;
using cpp::store::EventType;
using nlohmann::json;

namespace {
json obj(const std::string& name, const std::string& rv, const std::string& ns = "default") {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}}};
}
}  // namespace

TEST(ObjectCache, RelistReportsWhatChangedMeanwhile) {
  ObjectCache c;
  auto first = c.replace({obj("a", "1"), obj("b", "2")});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].type, EventType::Added);
  // While the watch was down: a changed, b deleted, c created.
  auto second = c.replace({obj("a", "7"), obj("c", "8")});
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second[0].type, EventType::Deleted);
  EXPECT_EQ(second[0].object["metadata"]["name"], "b");
  EXPECT_EQ(second[1].type, EventType::Modified);
  EXPECT_EQ(second[2].type, EventType::Added);
  EXPECT_TRUE(c.replace({obj("a", "7"), obj("c", "8")}).empty());  // nothing new
}

TEST(ObjectCache, WatchEventsAndReplays) {
  ObjectCache c;
  c.replace({obj("a", "1")});
  EXPECT_FALSE(c.apply("ADDED", obj("a", "1")));  // already known at this version
  auto m = c.apply("MODIFIED", obj("a", "2"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, EventType::Modified);
  auto a = c.apply("MODIFIED", obj("z", "3", "other"));  // first seen: Added for our consumers
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, EventType::Added);
  auto d = c.apply("DELETED", obj("a", "4"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, EventType::Deleted);
  EXPECT_FALSE(c.apply("DELETED", obj("a", "4")));
  EXPECT_EQ(c.size(), 1u);
  EXPECT_THROW(c.apply("BOOKMARK", obj("x", "5")), std::invalid_argument);
}
