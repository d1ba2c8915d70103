#pragma once
// How the hubble CLI reaches a server over TLS, with upstream's options:
//   --tls                   use TLS (also when --server starts with tls://)
//   --tls-allow-insecure    do not verify the server's certificate or name
//   --tls-ca-cert-files     PEM CA certificates to trust (default: the system's)
//   --tls-client-cert-file  client certificate for mutual TLS (with the key)
//   --tls-client-key-file
//   --tls-server-name       the name the server's certificate must carry
// Each also reads HUBBLE_<NAME> (HUBBLE_TLS_SERVER_NAME, ...), as upstream's.
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

namespace cpp::hubble_cli {

struct TlsFlags {
  bool tls = false;
  bool allow_insecure = false;
  std::vector<std::string> ca_cert_files;
  std::string client_cert_file, client_key_file, server_name;
};

// Where and how to dial: `target` for gRPC (tls:// stripped, "/p" →
// "unix:///p"), `tls` on or off.
struct DialPlan {
  std::string target;
  bool tls = false;
  TlsFlags flags;
};

// Throws std::invalid_argument for a bad --server, half a client key pair,
// or a client key pair without TLS (upstream's "transport layer security
// required"). TLS-only options are ignored without TLS, as upstream does.
DialPlan plan_dial(const std::string& server, const TlsFlags& flags);

// The files read and checked: throws std::runtime_error naming the file
// that is missing, unreadable or not PEM.
struct TlsMaterial {
  std::string roots;  // concatenated CA certificates; empty: system roots
  std::string client_cert, client_key;
};
TlsMaterial load_tls_material(const TlsFlags& flags);

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const DialPlan& plan);
grpc::ChannelArguments channel_arguments(const DialPlan& plan);

// gRPC's connection error (e.g. "... Ssl handshake failed: ...
// CERTIFICATE_VERIFY_FAILED") as a sentence naming the cause and the option
// that fixes it; "" when it is not a TLS problem (refused, no such socket).
std::string explain_tls_failure(const std::string& grpc_error, const DialPlan& plan);

}  // namespace cpp::hubble_cli
