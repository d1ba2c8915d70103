// hubble's YAML config file: keys as the flags, used only where neither a
// flag nor a HUBBLE_* variable gave a value; bad files are named.
#include "hubble_cli/config_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "error_text.h"

using namespace cpp::hubble_cli;

TEST(ConfigFile, ParsesScalarsAndLists) {
  auto v = parse_config(
      "server: tls://node-a:4244\n"
      "tls: true\n"
      "tls-ca-cert-files:\n  - /etc/a.crt\n  - /etc/b.crt\n"
      "output: json\n",
      "c.yaml");
  EXPECT_EQ(v["server"], (std::vector<std::string>{"tls://node-a:4244"}));
  EXPECT_EQ(v["tls"], (std::vector<std::string>{"true"}));
  EXPECT_EQ(v["tls-ca-cert-files"], (std::vector<std::string>{"/etc/a.crt", "/etc/b.crt"}));
  EXPECT_TRUE(parse_config("", "c.yaml").empty());
  EXPECT_NE(message_of([] { parse_config("server: [unclosed\n", "/etc/hubble/config.yaml"); })
                .find("config file /etc/hubble/config.yaml: "),
            std::string::npos);
  EXPECT_EQ(message_of([] { parse_config("- a\n- b\n", "c.yaml"); }),
            "config file c.yaml: expected a mapping of option: value");
}

TEST(ConfigFile, FillsOnlyWhatFlagsAndEnvironmentLeftUnset) {
  auto values = parse_config(
      "server: tls://from-config:4244\ntimeout: 9s\ntls-allow-insecure: true\n"
      "tls-ca-cert-files: /etc/one.crt\ntls-client-cert-file: c.crt\ntls-client-key-file: c.key\n"
      "tls-server-name: from-config.example\n",
      "c.yaml");
  GlobalOptions g;
  g.server = "given:4244";
  apply_config(values, "c.yaml", [](const std::string& key) { return key == "server"; }, g);
  EXPECT_EQ(g.server, "given:4244");
  EXPECT_EQ(g.timeout, "9s");
  EXPECT_TRUE(g.tls.allow_insecure);
  EXPECT_FALSE(g.tls.tls);
  EXPECT_EQ(g.tls.ca_cert_files, (std::vector<std::string>{"/etc/one.crt"}));
  EXPECT_EQ(g.tls.client_cert_file, "c.crt");
  EXPECT_EQ(g.tls.client_key_file, "c.key");
  EXPECT_EQ(g.tls.server_name, "from-config.example");
  GlobalOptions bad;
  EXPECT_EQ(message_of([&] { apply_config(parse_config("tls: maybe\n", "c.yaml"), "c.yaml", [](auto&) { return false; }, bad); }),
            "config file c.yaml: tls: 'maybe' is not true or false");
}

TEST(ConfigFile, LoadedAfterFlagsAndEnvironment) {
  char tmpl[] = "/tmp/cpp-hubble-config-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/config.yaml") << "server: tls://from-config:4244\ntls-server-name: from-config.example\n"
                                         "timeout: 7s\n";
  setenv("HUBBLE_TIMEOUT", "3s", 1);
  CLI::App app;
  GlobalOptions g;
  add_connection_flags(app, g);
  const char* argv[] = {"hubble", "--config", nullptr, "--tls-server-name", "flag.example"};
  const std::string path = dir + "/config.yaml";
  argv[2] = path.c_str();
  app.parse(5, argv);
  unsetenv("HUBBLE_TIMEOUT");
  load_config_file(g);
  EXPECT_EQ(g.server, "tls://from-config:4244");  // only the file set it
  EXPECT_EQ(g.timeout, "3s");                     // the variable wins over the file
  EXPECT_EQ(g.tls.server_name, "flag.example");   // the flag wins over the file

  GlobalOptions absent;
  absent.config = dir + "/absent.yaml";
  EXPECT_EQ(message_of([&] { load_config_file(absent); }),
            "config file " + dir + "/absent.yaml: No such file or directory");
  // The default path may be absent: nothing to load.
  setenv("XDG_CONFIG_HOME", (dir + "/xdg").c_str(), 1);
  EXPECT_EQ(default_config_path(), dir + "/xdg/hubble/config.yaml");
  GlobalOptions defaults;
  EXPECT_NO_THROW(load_config_file(defaults));
  EXPECT_EQ(defaults.server, "unix:///var/run/cilium/hubble.sock");
  unsetenv("XDG_CONFIG_HOME");
  std::filesystem::remove_all(dir);
}
