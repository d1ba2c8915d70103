#include <gtest/gtest.h>

#include <optional>

#include "store/resource_meta.h"

using namespace cpp::store;
using nlohmann::json;

namespace {

json cnp(const std::string& port) {
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumNetworkPolicy"},
          {"metadata", {{"name", "p"}, {"namespace", "default"}}},
          {"spec", {{"endpointSelector", json::object()}, {"port", port}}}};
}

TEST(ResourceMeta, NewObjectGetsUidTimestampAndGenerationOne) {
  json in = cnp("80");
  in["metadata"]["resourceVersion"] = "7";
  json out = with_server_fields(in, std::nullopt);
  const auto& md = out["metadata"];
  ASSERT_TRUE(md["uid"].is_string());
  EXPECT_EQ(md["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(md["uid"].get<std::string>()[14], '4');  // version 4
  EXPECT_TRUE(md["creationTimestamp"].is_string());
  EXPECT_EQ(md["generation"], 1);
  EXPECT_FALSE(md.contains("resourceVersion"));
  EXPECT_NE(with_server_fields(in, std::nullopt)["metadata"]["uid"], md["uid"]);
}

TEST(ResourceMeta, UpdateKeepsUidAndBumpsGenerationOnlyWhenSpecChanges) {
  json stored = with_server_fields(cnp("80"), std::nullopt);
  json same = with_server_fields(cnp("80"), stored);
  EXPECT_EQ(same["metadata"]["uid"], stored["metadata"]["uid"]);
  EXPECT_EQ(same["metadata"]["creationTimestamp"], stored["metadata"]["creationTimestamp"]);
  EXPECT_EQ(same["metadata"]["generation"], 1);
  json changed = with_server_fields(cnp("443"), same);
  EXPECT_EQ(changed["metadata"]["uid"], stored["metadata"]["uid"]);
  EXPECT_EQ(changed["metadata"]["generation"], 2);
}

TEST(ResourceMeta, WithoutServerFieldsComparesOnlyWhatTheClientOwns) {
  json a = with_server_fields(cnp("80"), std::nullopt);
  a["metadata"]["resourceVersion"] = "12";
  a["metadata"]["managedFields"] = json::array();
  EXPECT_EQ(without_server_fields(a), cnp("80"));
  EXPECT_NE(without_server_fields(a), cnp("443"));
}

TEST(ResourceMeta, SafeComponentRejectsPathTricks) {
  EXPECT_TRUE(safe_component("web-1"));
  for (const char* bad : {"", ".", "..", "a/b"}) EXPECT_FALSE(safe_component(bad)) << bad;
  EXPECT_FALSE(safe_component(std::string("a\0b", 3)));
}

TEST(ResourceMeta, UnknownKindIsNamed) {
  EXPECT_EQ(kind_or_throw("Pod").kind, "Pod");
  try {
    kind_or_throw("Podd");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"Podd\""), std::string::npos);
  }
}

}  // namespace
