#include "selectors.h"

#include <gtest/gtest.h>

using cpp::kfix::FieldSelector;
using cpp::kfix::json;
using cpp::kfix::LabelSelector;

TEST(LabelSelector, Operators) {
  json labels = {{"app", "web"}, {"tier", "front"}};
  EXPECT_TRUE(LabelSelector::parse("").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app=web").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app==web,tier").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app!=web").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app!=db").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("missing!=x").matches(labels));  // absent keys differ from every value
  EXPECT_TRUE(LabelSelector::parse("app in (db, web)").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app notin (db,web)").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("!missing").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("!app").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("missing").matches(json()));
  EXPECT_TRUE(LabelSelector::parse("k8s.io/name in (a),app=web").matches({{"k8s.io/name", "a"}, {"app", "web"}}));
}

TEST(LabelSelector, BadSyntaxNamesTheRequirement) {
  EXPECT_THROW(LabelSelector::parse("app in (a"), std::invalid_argument);
  EXPECT_THROW(LabelSelector::parse("app in ()"), std::invalid_argument);
  EXPECT_THROW(LabelSelector::parse("app,,tier"), std::invalid_argument);
  try {
    LabelSelector::parse("app ~ (x)");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("app ~ (x)"), std::string::npos);
  }
}

TEST(FieldSelector, FieldsPerKind) {
  json p = {{"metadata", {{"name", "p1"}, {"namespace", "ns1"}}}, {"spec", {{"nodeName", "node1"}}}};
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName=node1", "Pod").matches(p));
  EXPECT_FALSE(FieldSelector::parse("spec.nodeName!=node1", "Pod").matches(p));
  EXPECT_TRUE(FieldSelector::parse("metadata.name==p1,metadata.namespace=ns1", "Pod").matches(p));
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName=", "Pod").matches(json{{"metadata", {{"name", "x"}}}}));
  EXPECT_THROW(FieldSelector::parse("spec.nodeName=node1", "Service"), std::invalid_argument);
  EXPECT_THROW(FieldSelector::parse("metadata.name", "Pod"), std::invalid_argument);
}
