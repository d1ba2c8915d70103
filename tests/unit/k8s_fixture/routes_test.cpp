#include "routes.h"

#include <gtest/gtest.h>

#include "api_error.h"

using cpp::kfix::ApiError;
using cpp::kfix::parse_resource_path;

TEST(Routes, CoreAndGroupPaths) {
  auto r = parse_resource_path("/api/v1/namespaces/team/pods/web-0/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind->info->kind, "Pod");
  EXPECT_EQ(r->ns, "team");
  EXPECT_EQ(r->name, "web-0");
  EXPECT_EQ(r->subresource, "status");

  r = parse_resource_path("/api/v1/pods");
  EXPECT_EQ(r->kind->info->kind, "Pod");
  EXPECT_EQ(r->ns, "");
  EXPECT_EQ(r->name, "");

  r = parse_resource_path("/apis/cilium.io/v2/namespaces/x/ciliumnetworkpolicies/p");
  EXPECT_EQ(r->kind->info->kind, "CiliumNetworkPolicy");
  EXPECT_EQ(r->gv.str(), "cilium.io/v2");

  r = parse_resource_path("/apis/cilium.io/v2alpha1/ciliumloadbalancerippools/pool");
  EXPECT_EQ(r->kind->info->kind, "CiliumLoadBalancerIPPool");
  EXPECT_EQ(r->gv.version, "v2alpha1");
}

TEST(Routes, NamespacesAreObjectsToo) {
  auto r = parse_resource_path("/api/v1/namespaces/team");
  EXPECT_EQ(r->kind->info->kind, "Namespace");
  EXPECT_EQ(r->name, "team");
  r = parse_resource_path("/api/v1/namespaces/team/status");
  EXPECT_EQ(r->kind->info->kind, "Namespace");
  EXPECT_EQ(r->subresource, "status");
}

TEST(Routes, WhatIsNotServedIs404) {
  EXPECT_FALSE(parse_resource_path("/version"));
  EXPECT_FALSE(parse_resource_path("/apis/cilium.io/v2"));
  auto code = [](const char* p) {
    try {
      parse_resource_path(p);
    } catch (const ApiError& e) {
      return e.code();
    }
    return 0;
  };
  EXPECT_EQ(code("/api/v1/widgets"), 404);
  EXPECT_EQ(code("/apis/cilium.io/v3/ciliumnodes"), 404);
  EXPECT_EQ(code("/api/v1/pods/web-0"), 404);             // namespaced kind outside a namespace
  EXPECT_EQ(code("/api/v1/namespaces/x/nodes/n1"), 404);  // cluster-scoped kind inside one
  EXPECT_EQ(code("/apis/cilium.io/v2/namespaces/x/ciliumendpoints/e/status"), 404);  // no status subresource
  EXPECT_EQ(code("/api/v1/namespaces/x/pods/p/exec"), 404);
}
