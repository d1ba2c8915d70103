#include "patch.h"

#include <gtest/gtest.h>

#include "api_error.h"

using cpp::kfix::ApiError;
using cpp::kfix::apply_patch;
using cpp::kfix::json;

namespace {
const json kObj = {{"metadata", {{"name", "x"}, {"labels", {{"a", "1"}, {"b", "2"}}}}},
                   {"spec", {{"ports", {{{"port", 80}}}}}}};
}

TEST(Patch, MergePatchFollowsRfc7396) {
  json out = apply_patch(kObj, "application/merge-patch+json", R"({"metadata":{"labels":{"a":null,"c":"3"}}})");
  EXPECT_EQ(out["metadata"]["labels"], json({{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(out["spec"], kObj["spec"]);
}

TEST(Patch, JsonPatch) {
  json out =
      apply_patch(kObj, "application/json-patch+json", R"([{"op":"add","path":"/spec/ports/-","value":{"port":443}}])");
  EXPECT_EQ(out["spec"]["ports"].size(), 2u);
  try {
    apply_patch(kObj, "application/json-patch+json", R"([{"op":"remove","path":"/spec/nope"}])");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), 422);
  }
}

TEST(Patch, StrategicMergeDropsDirectives) {
  json out = apply_patch(kObj, "application/strategic-merge-patch+json; charset=utf-8",
                         R"({"$setElementOrder/ports":[{"port":80}],"metadata":{"labels":{"$patch":"replace","z":"9"}},
                             "spec":{"ports":[{"port":8080}]}})");
  EXPECT_FALSE(out.contains("$setElementOrder/ports"));
  EXPECT_EQ(out["spec"]["ports"], json::parse(R"([{"port":8080}])"));
  EXPECT_EQ(out["metadata"]["labels"]["z"], "9");
  out = apply_patch(kObj, "application/strategic-merge-patch+json", R"({"metadata":{"labels":{"$patch":"delete"}}})");
  EXPECT_FALSE(out["metadata"].contains("labels"));
}

TEST(Patch, BadBodiesAndTypes) {
  auto code = [](const char* type, const char* body) {
    try {
      apply_patch(kObj, type, body);
    } catch (const ApiError& e) {
      return e.code();
    }
    return 0;
  };
  EXPECT_EQ(code("application/apply-patch+yaml", "{}"), 415);
  EXPECT_EQ(code("application/merge-patch+json", "{nope"), 400);
  EXPECT_EQ(code("application/merge-patch+json", "[1]"), 400);
  EXPECT_EQ(code("application/json-patch+json", "{}"), 400);
}
