#include <gtest/gtest.h>

#include "cni/cni_error.h"
#include "cni/netconf.h"

using namespace cpp::cni;

namespace {
int code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const CniError& e) {
    return e.code();
  }
  return 0;
}

std::map<std::string, std::string> add_env() {
  return {{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "abc123"}, {"CNI_NETNS", "/run/netns/x"},
          {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/opt/cni/bin"}};
}
}  // namespace

TEST(NetConf, ParsesConflistEntry) {
  auto c = parse_netconf(R"({"cniVersion":"1.0.0","name":"cilium","type":"cilium-cni","socket-path":"/run/x.sock","enable-debug":true})");
  EXPECT_EQ(c.cni_version, "1.0.0");
  EXPECT_EQ(c.socket_path, "/run/x.sock");
  EXPECT_TRUE(c.debug);
  auto d = parse_netconf(R"({"cniVersion":"0.3.1","name":"cilium"})");
  EXPECT_EQ(d.socket_path, kDefaultSocket);
}

TEST(NetConf, RejectsBadInputWithSpecCodes) {
  EXPECT_EQ(code_of([] { parse_netconf("{not json"); }), kDecodingFailure);
  EXPECT_EQ(code_of([] { parse_netconf("[1,2]"); }), kDecodingFailure);
  EXPECT_EQ(code_of([] { parse_netconf(R"({"name":"cilium"})"); }), kInvalidNetworkConfig);
  EXPECT_EQ(code_of([] { parse_netconf(R"({"cniVersion":"9.9.9","name":"cilium"})"); }), kIncompatibleVersion);
  EXPECT_EQ(code_of([] { parse_netconf(R"({"cniVersion":"1.0.0","name":"cilium","socket-path":5})"); }),
            kInvalidNetworkConfig);
  EXPECT_EQ(code_of([] { parse_netconf(R"({"cniVersion":"1.0.0","name":"c","enable-debug":"yes"})"); }),
            kInvalidNetworkConfig);
}

TEST(Invocation, ParsesEnvAndArgs) {
  auto env = add_env();
  env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0";
  auto inv = parse_invocation(env);
  EXPECT_EQ(inv.command, "ADD");
  EXPECT_EQ(inv.args.at("K8S_POD_NAME"), "web-0");
}

TEST(Invocation, RequiredVariablesDependOnCommand) {
  auto env = add_env();
  env.erase("CNI_NETNS");
  EXPECT_EQ(code_of([&] { parse_invocation(env); }), kInvalidEnv);
  env["CNI_COMMAND"] = "DEL";
  EXPECT_NO_THROW(parse_invocation(env)) << "DEL may come without a netns";
  EXPECT_EQ(code_of([] { parse_invocation({{"CNI_COMMAND", "VERSION"}}); }), 0);
  EXPECT_EQ(code_of([] { parse_invocation({}); }), kInvalidEnv);
  auto bad = add_env();
  bad["CNI_CONTAINERID"] = "../etc";
  EXPECT_EQ(code_of([&] { parse_invocation(bad); }), kInvalidEnv);
  bad = add_env();
  bad["CNI_IFNAME"] = "a-very-long-interface-name";
  EXPECT_EQ(code_of([&] { parse_invocation(bad); }), kInvalidEnv);
  bad = add_env();
  bad["CNI_ARGS"] = "novalue";
  EXPECT_EQ(code_of([&] { parse_invocation(bad); }), kInvalidEnv);
}

TEST(HostIfname, StableShortAndDistinct) {
  auto a = host_ifname("abc", "eth0");
  EXPECT_EQ(a, host_ifname("abc", "eth0"));
  EXPECT_EQ(a.size(), 15u);
  EXPECT_EQ(a.rfind("lxc", 0), 0u);
  EXPECT_NE(a, host_ifname("abd", "eth0"));
  EXPECT_NE(a, host_ifname("abc", "net1"));
}

TEST(CniError, SerializesPerSpec) {
  CniError e(kInvalidEnv, "CNI_NETNS is not set", "detail");
  auto j = e.to_json("1.0.0");
  EXPECT_EQ(j["code"], 4);
  EXPECT_EQ(j["msg"], "CNI_NETNS is not set");
  EXPECT_EQ(j["details"], "detail");
  EXPECT_EQ(j["cniVersion"], "1.0.0");
}
