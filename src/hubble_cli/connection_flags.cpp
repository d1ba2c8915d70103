// The connection options every server command shares, named and bound to
// environment variables as upstream's hubble names them.
#include "hubble_cli/client.h"
#include "hubble_cli/commands.h"
#include "hubble_cli/config_file.h"
#include "hubble_cli/time_arg.h"

namespace cpp::hubble_cli {

std::chrono::milliseconds timeout_of(const GlobalOptions& g) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(g.timeout));
  if (d.count() <= 0) throw std::invalid_argument("invalid --timeout '" + g.timeout + "': must be positive");
  return d;
}

ObserverClient connect(GlobalOptions& g) {
  load_config_file(g);
  return ObserverClient(g.server, timeout_of(g), g.tls);
}

void add_connection_flags(CLI::App& app, GlobalOptions& g) {
  app.add_option("--config", g.config,
                 "YAML config file, keys as these flags (default: $XDG_CONFIG_HOME/hubble/config.yaml, else "
                 "~/.config/hubble/config.yaml)")
      ->envname("HUBBLE_CONFIG");
  g.given["server"] =
      app.add_option("--server", g.server, "Hubble server: unix:///path, host:port or tls://host:port")
          ->envname("HUBBLE_SERVER")
          ->capture_default_str();
  g.given["timeout"] = app.add_option("--timeout", g.timeout, "how long to wait for the server (5s, 500ms)")
                           ->envname("HUBBLE_TIMEOUT")
                           ->capture_default_str();
  g.given["tls"] =
      app.add_flag("--tls", g.tls.tls, "use TLS to reach the server (also when --server starts with tls://)")
          ->envname("HUBBLE_TLS");
  g.given["tls-allow-insecure"] =
      app.add_flag("--tls-allow-insecure", g.tls.allow_insecure,
                   "do not verify the server's certificate chain and name (NOT recommended: open to "
                   "machine-in-the-middle attacks)")
          ->envname("HUBBLE_TLS_ALLOW_INSECURE");
  g.given["tls-ca-cert-files"] =
      app.add_option("--tls-ca-cert-files", g.tls.ca_cert_files, "PEM CA certificate files to trust (comma-separated)")
          ->envname("HUBBLE_TLS_CA_CERT_FILES")
          ->delimiter(',');
  g.given["tls-client-cert-file"] =
      app.add_option("--tls-client-cert-file", g.tls.client_cert_file,
                     "PEM client certificate for servers that require one (mutual TLS; needs TLS)")
          ->envname("HUBBLE_TLS_CLIENT_CERT_FILE");
  g.given["tls-client-key-file"] =
      app.add_option("--tls-client-key-file", g.tls.client_key_file, "PEM private key of --tls-client-cert-file")
          ->envname("HUBBLE_TLS_CLIENT_KEY_FILE");
  g.given["tls-server-name"] =
      app.add_option("--tls-server-name", g.tls.server_name,
                     "the name to verify the server's certificate against (e.g. *.default.hubble-grpc.cilium.io)")
          ->envname("HUBBLE_TLS_SERVER_NAME");
}

}  // namespace cpp::hubble_cli
