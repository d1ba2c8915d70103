#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "common/files.h"
#include "identity/identity.h"

using namespace cpp;
using namespace cpp::identity;
using labels::Label;
using labels::LabelSet;
using nlohmann::json;

namespace {
LabelSet L(std::initializer_list<const char*> ls) {
  LabelSet s;
  for (auto* x : ls) s.add(Label::parse(x));
  return s;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cpp-identity-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& f) const { return dir_ + "/" + f; }

 private:
  std::string dir_;
};
}  // namespace

TEST(Reserved, NumberingAsUpstream) {
  EXPECT_EQ(reserved_identities().size(), 8u);
  EXPECT_EQ(reserved_identities(true).size(), 10u);
  EXPECT_EQ(*reserved_by_name("host"), 1u);
  EXPECT_EQ(*reserved_by_name("world"), 2u);
  EXPECT_EQ(*reserved_by_name("unmanaged"), 3u);
  EXPECT_EQ(*reserved_by_name("health"), 4u);
  EXPECT_EQ(*reserved_by_name("init"), 5u);
  EXPECT_EQ(*reserved_by_name("remote-node"), 6u);
  EXPECT_EQ(*reserved_by_name("kube-apiserver"), 7u);
  EXPECT_EQ(*reserved_by_name("ingress"), 8u);
  EXPECT_EQ(*reserved_by_name("world-ipv4"), 9u);
  EXPECT_EQ(*reserved_by_name("world-ipv6"), 10u);
  EXPECT_EQ(reserved_name(6), "remote-node");
  EXPECT_EQ(reserved_name(256), "");
  EXPECT_TRUE(is_reserved(1));
  EXPECT_FALSE(is_reserved(256));
  EXPECT_TRUE(is_local_scope(kLocalScope | 5));
  EXPECT_FALSE(is_local_scope(300));
  EXPECT_EQ(kLocalScope, 1u << 24);
}

TEST(Reserved, LabelsResolveToReservedIds) {
  EXPECT_EQ(*reserved_for_labels(L({"reserved:health"})), kHealth);
  EXPECT_EQ(*reserved_for_labels(L({"reserved:kube-apiserver", "reserved:remote-node"})), kKubeAPIServer);
  EXPECT_EQ(*reserved_for_labels(L({"reserved:host", "k8s:node-role=x"})), kHost);
  EXPECT_FALSE(reserved_for_labels(L({"k8s:app=a"})));
  EXPECT_FALSE(reserved_for_labels(L({"reserved:world-ipv4"})));  // not split
  EXPECT_EQ(*reserved_for_labels(L({"reserved:world-ipv4"}), true), kWorldIPv4);
}

TEST(LocalAllocator, ClusterIdsFrom256AndStable) {
  LocalAllocator a;
  auto x = a.allocate(L({"k8s:app=a"}), "ep:1");
  EXPECT_EQ(x.id, 256u);
  EXPECT_TRUE(x.is_new);
  auto y = a.allocate(L({"k8s:app=b"}), "ep:2");
  EXPECT_EQ(y.id, 257u);
  auto x2 = a.allocate(L({"k8s:app=a"}), "ep:3");
  EXPECT_EQ(x2.id, 256u);
  EXPECT_FALSE(x2.is_new);
  EXPECT_EQ(*a.lookup(256), L({"k8s:app=a"}));
  EXPECT_EQ(*a.lookup(L({"k8s:app=b"})), 257u);
  EXPECT_FALSE(a.lookup(999));
  EXPECT_EQ(*a.lookup(2), L({"reserved:world"}));
  EXPECT_EQ(*a.lookup(L({"reserved:host"})), 1u);
}

TEST(LocalAllocator, ReservedLabelSetsDoNotAllocate) {
  LocalAllocator a;
  auto h = a.allocate(L({"reserved:health"}), "ep:9");
  EXPECT_EQ(h.id, kHealth);
  EXPECT_FALSE(h.is_new);
  EXPECT_TRUE(a.list().empty());
  EXPECT_EQ(a.list(true).size(), 8u);
  EXPECT_THROW(a.allocate(LabelSet{}, "x"), std::invalid_argument);
  EXPECT_THROW(a.allocate(L({"cidr:10.0.0.0/8"}), "x"), std::invalid_argument);
}

TEST(LocalAllocator, PerUserRefcounting) {
  LocalAllocator a;
  auto id = a.allocate(L({"k8s:app=a"}), "ep:1").id;
  a.allocate(L({"k8s:app=a"}), "ep:1");  // idempotent per user
  a.allocate(L({"k8s:app=a"}), "ep:2");
  EXPECT_EQ(a.get(id)->users, (std::vector<std::string>{"ep:1", "ep:2"}));
  EXPECT_FALSE(a.release(id, "ep:1"));
  EXPECT_FALSE(a.release(id, "ep:1"));  // not a holder any more
  EXPECT_TRUE(a.lookup(id));
  EXPECT_TRUE(a.release(id, "ep:2"));
  EXPECT_FALSE(a.lookup(id));
  EXPECT_FALSE(a.release(id, "ep:2"));
  // The lowest free id is reused.
  EXPECT_EQ(a.allocate(L({"k8s:app=z"}), "ep:3").id, 256u);
}

TEST(LocalAllocator, ReleaseUser) {
  LocalAllocator a;
  auto i1 = a.allocate(L({"k8s:app=a"}), "ep:1").id;
  auto i2 = a.allocate(L({"k8s:app=b"}), "ep:1").id;
  a.allocate(L({"k8s:app=b"}), "ep:2");
  auto freed = a.release_user("ep:1");
  EXPECT_EQ(freed, (std::vector<NumericIdentity>{i1}));
  EXPECT_FALSE(a.lookup(i1));
  EXPECT_TRUE(a.lookup(i2));
}

TEST(LocalAllocator, Exhaustion) {
  LocalAllocatorOptions o;
  o.cluster_min = 256;
  o.cluster_max = 257;
  LocalAllocator a(o);
  a.allocate(L({"k8s:a=1"}), "u");
  a.allocate(L({"k8s:a=2"}), "u");
  EXPECT_THROW(a.allocate(L({"k8s:a=3"}), "u"), std::runtime_error);
  o.cluster_min = 10;
  EXPECT_THROW(LocalAllocator{o}, std::invalid_argument);
}

TEST(LocalAllocator, CidrIdentitiesAreLocalScopeWithSupernetLabels) {
  LocalAllocator a;
  auto c = a.allocate_cidr(*IpPrefix::parse("10.0.0.0/8"), "policy");
  EXPECT_EQ(c.id, kLocalScope + 1);
  EXPECT_TRUE(is_local_scope(c.id));
  auto ls = *a.lookup(c.id);
  EXPECT_TRUE(ls.has("cidr", "10.0.0.0/8"));
  EXPECT_TRUE(ls.has("cidr", "0.0.0.0/0"));
  EXPECT_TRUE(ls.has_reserved("world"));
  auto d = a.allocate_cidr(*IpPrefix::parse("2001:db8::/32"), "policy");
  EXPECT_EQ(d.id, kLocalScope + 2);
  EXPECT_TRUE(a.lookup(d.id)->has("cidr", "2001-db8--0/32"));
  // Same prefix, same identity.
  EXPECT_EQ(a.allocate_cidr(*IpPrefix::parse("10.0.0.0/8"), "other").id, c.id);
  // /0 is the world.
  EXPECT_EQ(a.allocate_cidr(*IpPrefix::parse("0.0.0.0/0"), "p").id, kWorld);
  // Released when unused.
  EXPECT_FALSE(a.release(c.id, "policy"));
  EXPECT_TRUE(a.release(c.id, "other"));
  EXPECT_FALSE(a.lookup(c.id));
  // Cluster ids are unaffected by CIDR ids.
  EXPECT_EQ(a.allocate(L({"k8s:app=a"}), "ep").id, 256u);
}

TEST(LocalAllocator, WorldSplitCidr) {
  LocalAllocatorOptions o;
  o.world_split = true;
  LocalAllocator a(o);
  EXPECT_EQ(a.allocate_cidr(*IpPrefix::parse("::/0"), "p").id, kWorldIPv6);
  EXPECT_EQ(a.allocate_cidr(*IpPrefix::parse("0.0.0.0/0"), "p").id, kWorldIPv4);
  auto c = a.allocate_cidr(*IpPrefix::parse("192.0.2.0/24"), "p");
  EXPECT_TRUE(a.lookup(c.id)->has_reserved("world-ipv4"));
}

TEST(LocalAllocator, RestartKeepsIdsAndUsers) {
  TempDir tmp;
  LocalAllocatorOptions o;
  o.state_file = tmp.path("identities.json");
  NumericIdentity a_id, b_id, c_id;
  {
    LocalAllocator a(o);
    a.allocate(L({"k8s:app=x"}), "ep:9");  // 256, later freed
    a_id = a.allocate(L({"k8s:app=a"}), "ep:1").id;
    b_id = a.allocate(L({"k8s:app=b"}), "ep:2").id;
    c_id = a.allocate_cidr(*IpPrefix::parse("192.0.2.0/24"), "policy").id;
    a.release(256, "ep:9");
  }
  ASSERT_TRUE(read_file(o.state_file));
  LocalAllocator r(o);
  EXPECT_EQ(*r.lookup(L({"k8s:app=a"})), a_id);
  EXPECT_EQ(*r.lookup(L({"k8s:app=b"})), b_id);
  EXPECT_EQ(*r.lookup(labels::cidr_identity_labels(*IpPrefix::parse("192.0.2.0/24"))), c_id);
  EXPECT_EQ(r.get(a_id)->users, (std::vector<std::string>{"ep:1"}));
  EXPECT_FALSE(r.lookup(256));
  // Re-allocation after restart returns the same id and is not new.
  auto again = r.allocate(L({"k8s:app=a"}), "ep:1");
  EXPECT_EQ(again.id, a_id);
  EXPECT_FALSE(again.is_new);
  // A new label set takes the freed 256.
  EXPECT_EQ(r.allocate(L({"k8s:app=new"}), "ep:3").id, 256u);
}

TEST(LocalAllocator, CorruptStateFileIsAnError) {
  TempDir tmp;
  LocalAllocatorOptions o;
  o.state_file = tmp.path("identities.json");
  write_file_atomic(o.state_file, "{not json");
  try {
    LocalAllocator a(o);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("identities.json"), std::string::npos);
  }
}

TEST(LocalAllocator, ObserversSeeExistingAndChanges) {
  LocalAllocator a;
  a.allocate(L({"k8s:app=a"}), "ep:1");
  std::vector<std::pair<IdentityEvent::Type, NumericIdentity>> seen;
  auto h = a.add_observer([&](const IdentityEvent& e) { seen.push_back({e.type, e.id}); });
  EXPECT_EQ(seen.size(), 9u);  // 8 reserved + 256
  seen.clear();
  a.allocate(L({"k8s:app=b"}), "ep:2");
  a.allocate(L({"k8s:app=b"}), "ep:3");  // existing: no event
  a.release(257, "ep:2");
  a.release(257, "ep:3");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(IdentityEvent::Type::Added, NumericIdentity{257}));
  EXPECT_EQ(seen[1], std::make_pair(IdentityEvent::Type::Removed, NumericIdentity{257}));
  a.remove_observer(h);
  a.allocate(L({"k8s:app=c"}), "ep:4");
  EXPECT_EQ(seen.size(), 2u);
}

TEST(CiliumIdentityObject, ShapedLikeTheSeed) {
  LabelSet ls = labels::LabelSet::parse({
      "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system",
      "k8s:io.cilium.k8s.policy.cluster=default",
      "k8s:io.cilium.k8s.policy.serviceaccount=coredns",
      "k8s:io.kubernetes.pod.namespace=kube-system",
      "k8s:k8s-app=kube-dns",
  });
  json o = cilium_identity_object(52314, ls);
  EXPECT_EQ(o["apiVersion"], "cilium.io/v2");
  EXPECT_EQ(o["kind"], "CiliumIdentity");
  EXPECT_EQ(o["metadata"]["name"], "52314");
  EXPECT_EQ(o["metadata"]["labels"], json::parse(R"({
      "io.cilium.k8s.policy.cluster": "default",
      "io.cilium.k8s.policy.serviceaccount": "coredns",
      "io.kubernetes.pod.namespace": "kube-system",
      "k8s-app": "kube-dns"})"));
  EXPECT_EQ(o["security-labels"]["k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name"], "kube-system");
  EXPECT_EQ(o["security-labels"]["k8s:k8s-app"], "kube-dns");
  EXPECT_EQ(o["security-labels"].size(), 5u);
  auto [id, back] = parse_cilium_identity(o);
  EXPECT_EQ(id, 52314u);
  EXPECT_EQ(back, ls);
  EXPECT_THROW(parse_cilium_identity(json::parse(R"({"kind":"CiliumIdentity","metadata":{"name":"x"}})")),
               std::invalid_argument);
}
