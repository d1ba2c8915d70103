#include <gtest/gtest.h>

#include "hubble/label_query.h"

namespace cpp::hubble {
namespace {

const std::vector<std::string> kPod = {"k8s:app=web", "k8s:tier=front", "k8s:io.kubernetes.pod.namespace=prod",
                                       "k8s:replicas=3", "container:app=sidecar", "reserved:host"};

bool m(const std::string& sel, const std::vector<std::string>& ls = kPod) { return LabelQuery::parse(sel).matches(ls); }

TEST(LabelQuery, EmptySelectorMatchesEverything) {
  EXPECT_TRUE(m(""));
  EXPECT_TRUE(m("  "));
  EXPECT_TRUE(m("", {}));
}

TEST(LabelQuery, Equality) {
  EXPECT_TRUE(m("app=web"));
  EXPECT_TRUE(m("app==web"));
  EXPECT_TRUE(m("app = web"));
  EXPECT_FALSE(m("app=db"));
  EXPECT_FALSE(m("missing=web"));
}

TEST(LabelQuery, SourcePrefixRestrictsTheSource) {
  EXPECT_TRUE(m("k8s:app=web"));
  EXPECT_FALSE(m("k8s:app=sidecar"));
  EXPECT_TRUE(m("container:app=sidecar"));
  // Without a source (or with any:) every source's label counts.
  EXPECT_TRUE(m("app=sidecar"));
  EXPECT_TRUE(m("any:app=sidecar"));
  EXPECT_TRUE(m("k8s:io.kubernetes.pod.namespace=prod"));
}

TEST(LabelQuery, Inequality) {
  EXPECT_TRUE(m("tier!=back"));
  EXPECT_FALSE(m("tier!=front"));
  EXPECT_TRUE(m("missing!=x"));  // absent keys satisfy !=
  EXPECT_FALSE(m("k8s:app!=web"));
  EXPECT_FALSE(m("app!=web"));  // k8s:app=web is there
}

TEST(LabelQuery, SetOperators) {
  EXPECT_TRUE(m("tier in (front,back)"));
  EXPECT_TRUE(m("tier in ( back , front )"));
  EXPECT_FALSE(m("tier in (back)"));
  EXPECT_TRUE(m("tier notin (back)"));
  EXPECT_FALSE(m("tier notin (back,front)"));
  EXPECT_TRUE(m("missing notin (x)"));
  EXPECT_FALSE(m("missing in (x)"));
}

TEST(LabelQuery, ExistenceOperators) {
  EXPECT_TRUE(m("tier"));
  EXPECT_FALSE(m("db"));
  EXPECT_TRUE(m("!db"));
  EXPECT_FALSE(m("!tier"));
  EXPECT_TRUE(m("reserved:host"));
  EXPECT_FALSE(m("k8s:host"));
}

TEST(LabelQuery, NumericComparisons) {
  EXPECT_TRUE(m("replicas>2"));
  EXPECT_FALSE(m("replicas>3"));
  EXPECT_TRUE(m("replicas<4"));
  EXPECT_FALSE(m("replicas < 3"));
  EXPECT_FALSE(m("app>1"));  // not a number
}

TEST(LabelQuery, RequirementsAreAnded) {
  EXPECT_TRUE(m("app=web,tier=front"));
  EXPECT_FALSE(m("app=web,tier=back"));
  EXPECT_TRUE(m("app=web, tier in (front), !db"));
}

TEST(LabelQuery, EmptyValueMatchesLabelsWithoutValue) {
  EXPECT_TRUE(m("reserved:host="));
  EXPECT_FALSE(m("app="));
}

TEST(LabelQuery, ParsedRequirements) {
  auto q = LabelQuery::parse("k8s:app in (a,b)");
  ASSERT_EQ(q.requirements().size(), 1u);
  EXPECT_EQ(q.requirements()[0].source, "k8s");
  EXPECT_EQ(q.requirements()[0].key, "app");
  EXPECT_EQ(q.requirements()[0].op, LabelQuery::Op::In);
  EXPECT_EQ(q.requirements()[0].values, (std::vector<std::string>{"a", "b"}));
}

TEST(LabelQuery, BadSyntaxIsAnErrorNamingThePosition) {
  for (const char* bad : {"app=web,", ",app", "app in a", "app in ()", "app in (a", "app ~ b", "app=we b", "app>x",
                          ":app=web", "k8s:=x", "a:b:c=d", "!"}) {
    EXPECT_THROW(LabelQuery::parse(bad), std::invalid_argument) << bad;
  }
  try {
    LabelQuery::parse("app=web,tier ~ x");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "expected an operator (=, ==, !=, in, notin, >, <) at position 13 of label selector \"app=web,tier ~ x\"");
  }
}

}  // namespace
}  // namespace cpp::hubble
