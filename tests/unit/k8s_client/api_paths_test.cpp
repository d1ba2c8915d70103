#include <gtest/gtest.h>

#include "k8s/client/api_paths.h"

using namespace cpp::k8s;

TEST(ApiPaths, CoreAndGroupedNamespacedAndClusterScoped) {
  auto pods = resource_for("Pod");
  EXPECT_EQ(pods.api_version(), "v1");
  EXPECT_EQ(collection_path(pods, "kube-system"), "/api/v1/namespaces/kube-system/pods");
  EXPECT_EQ(collection_path(pods, ""), "/api/v1/pods");
  EXPECT_EQ(object_path(pods, "", "a"), "/api/v1/namespaces/default/pods/a");
  auto cnp = resource_for("CiliumNetworkPolicy");
  EXPECT_EQ(object_path(cnp, "x", "allow"), "/apis/cilium.io/v2/namespaces/x/ciliumnetworkpolicies/allow");
  auto nodes = resource_for("CiliumNode");
  EXPECT_EQ(object_path(nodes, "ignored", "n1"), "/apis/cilium.io/v2/ciliumnodes/n1");
  auto slices = resource_for("EndpointSlice");
  EXPECT_EQ(collection_path(slices, "d"), "/apis/discovery.k8s.io/v1/namespaces/d/endpointslices");
  EXPECT_EQ(resource_for("CiliumLoadBalancerIPPool", "v2alpha1").api_version(), "cilium.io/v2alpha1");
  EXPECT_THROW(resource_for("Deployment"), std::invalid_argument);
}

TEST(ApiPaths, PickVersionFollowsWhatTheServerServes) {
  const auto& pool = *cpp::store::find_kind("CiliumLoadBalancerIPPool");  // accepts v2 and v2alpha1
  EXPECT_EQ(pick_version(pool, {"v2alpha1"}, "v2alpha1"), "v2alpha1");    // upstream 1.15
  EXPECT_EQ(pick_version(pool, {"v2", "v2alpha1"}, "v2alpha1"), "v2alpha1");
  EXPECT_EQ(pick_version(pool, {"v2", "v2alpha1"}, "v3"), "v2");  // preferred unknown: ours, in our order
  EXPECT_EQ(pick_version(pool, {"v3"}, "v3"), std::nullopt);
}

TEST(ApiPaths, QueriesAreEncodedAndSkipEmptyValues) {
  EXPECT_EQ(query({{"limit", "500"}, {"continue", ""}}), "?limit=500");
  EXPECT_EQ(query({{"labelSelector", "app in (a,b)"}, {"watch", "true"}}), "?labelSelector=app%20in%20%28a%2Cb%29&watch=true");
  EXPECT_EQ(query({}), "");
}
