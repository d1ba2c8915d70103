#pragma once
// hubble's config file, as upstream's: YAML keyed by the flag names
//   server: tls://node-a:4244
//   tls-ca-cert-files: [/etc/hubble/ca.crt]
//   tls-server-name: node-a.default.hubble-grpc.cilium.io
// read from --config (HUBBLE_CONFIG), default $XDG_CONFIG_HOME/hubble/config.yaml
// (~/.config/hubble/config.yaml). A value there is used only when neither
// the flag nor its HUBBLE_* variable gave one. Keys of other commands are
// ignored, as upstream's viper does.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hubble_cli/commands.h"

namespace cpp::hubble_cli {

// The default path from the environment; "" when neither XDG_CONFIG_HOME nor HOME is set.
std::string default_config_path();

// Parses `yaml` (the content of `path`, named in errors) into key → values
// (scalars give one value, sequences one each). Throws std::runtime_error
// for malformed YAML or a top level that is not a mapping.
std::map<std::string, std::vector<std::string>> parse_config(const std::string& yaml, const std::string& path);

// Sets each connection option of g from `values` unless given_elsewhere(key)
// (the flag or variable was used). Throws std::runtime_error naming the key
// and the file for a value that is not a boolean where one is expected.
void apply_config(const std::map<std::string, std::vector<std::string>>& values, const std::string& path,
                  const std::function<bool(const std::string&)>& given_elsewhere, GlobalOptions& g);

// Reads g.config (or the default path, silently skipped when absent) into
// g, for options the command line and environment left unset.
void load_config_file(GlobalOptions& g);

}  // namespace cpp::hubble_cli
