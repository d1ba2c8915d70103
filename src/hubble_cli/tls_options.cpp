#include "hubble_cli/tls_options.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "hubble_cli/client.h"

namespace cpp::hubble_cli {

namespace {

constexpr const char* kTlsPrefix = "tls://";

std::string read_pem(const std::string& what, const std::string& path, const char* marker) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot load " + what + " '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find(marker) == std::string::npos)
    throw std::runtime_error("cannot process " + what + " '" + path + "': must contain PEM encoded data (" + marker +
                             ")");
  return ss.str();
}

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

}  // namespace

DialPlan plan_dial(const std::string& server, const TlsFlags& flags) {
  DialPlan plan;
  plan.flags = flags;
  std::string address = server;
  if (address.rfind(kTlsPrefix, 0) == 0) {
    address = address.substr(std::string(kTlsPrefix).size());
    plan.tls = true;
  }
  plan.tls = plan.tls || flags.tls;
  plan.target = grpc_target(address);
  // "a.crt,b.crt" on the command line, "a.crt b.crt" from HUBBLE_TLS_CA_CERT_FILES (as upstream's).
  plan.flags.ca_cert_files.clear();
  for (const auto& entry : flags.ca_cert_files) {
    std::string file;
    for (char c : entry + ",") {
      if (c != ',' && c != ' ' && c != '\t') {
        file += c;
      } else if (!file.empty()) {
        plan.flags.ca_cert_files.push_back(file);
        file.clear();
      }
    }
  }
  if (flags.client_cert_file.empty() != flags.client_key_file.empty())
    throw std::invalid_argument(
        "--tls-client-cert-file and --tls-client-key-file go together: certificate and private key are both "
        "required, but only one was provided");
  if (!flags.client_cert_file.empty() && !plan.tls)
    throw std::invalid_argument(
        "transport layer security required: a client certificate needs --tls or a tls:// --server");
  return plan;
}

TlsMaterial load_tls_material(const TlsFlags& flags) {
  TlsMaterial m;
  for (const auto& path : flags.ca_cert_files)
    m.roots += read_pem("CA certificate", path, "-----BEGIN CERTIFICATE-----");
  if (!flags.client_cert_file.empty()) {
    m.client_cert = read_pem("client certificate", flags.client_cert_file, "-----BEGIN CERTIFICATE-----");
    m.client_key = read_pem("client key", flags.client_key_file, "PRIVATE KEY-----");
  }
  return m;
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const DialPlan& plan) {
  if (!plan.tls) return grpc::InsecureChannelCredentials();
  TlsMaterial m = load_tls_material(plan.flags);
  if (!plan.flags.allow_insecure) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = m.roots;
    o.pem_private_key = m.client_key;
    o.pem_cert_chain = m.client_cert;
    return grpc::SslCredentials(o);
  }
  // Skipping verification needs gRPC's TLS credentials: the SSL ones always
  // verify the chain and the name.
  namespace gx = grpc::experimental;
  std::vector<gx::IdentityKeyCertPair> identity;
  if (!m.client_cert.empty()) identity.push_back({m.client_key, m.client_cert});
  gx::TlsChannelCredentialsOptions o;
  if (!identity.empty()) {
    o.set_certificate_provider(std::make_shared<gx::StaticDataCertificateProvider>(identity));
    o.watch_identity_key_cert_pairs();
  }
  o.set_verify_server_certs(false);
  o.set_certificate_verifier(std::make_shared<gx::NoOpCertificateVerifier>());
  o.set_check_call_host(false);
  return gx::TlsCredentials(o);
}

grpc::ChannelArguments channel_arguments(const DialPlan& plan) {
  grpc::ChannelArguments args;
  if (plan.tls && !plan.flags.server_name.empty()) args.SetSslTargetNameOverride(plan.flags.server_name);
  return args;
}

std::string explain_tls_failure(const std::string& e, const DialPlan& plan) {
  if (!plan.tls) {
    // A TLS server drops a plaintext client's connection during the HTTP/2 preface.
    if (contains(e, "Socket closed") || contains(e, "Connection reset") || contains(e, "failed to read"))
      return "the connection was closed during the handshake: if the server uses TLS, pass --tls (or a tls:// "
             "--server)";
    return "";
  }
  if (contains(e, "CERTIFICATE_VERIFY_FAILED") || contains(e, "certificate verify failed"))
    return "TLS handshake failed: the server's certificate is not trusted (pass the CA that signed it with "
           "--tls-ca-cert-files, or skip verification with --tls-allow-insecure)";
  if (contains(e, "Peer name") && contains(e, "not in peer certificate"))
    return "TLS handshake failed: the server's certificate is not issued for the name dialed (set the name it "
           "carries with --tls-server-name)";
  if (contains(e, "CERTIFICATE_REQUIRED") || contains(e, "certificate required") ||
      contains(e, "PEER_DID_NOT_RETURN_A_CERTIFICATE") || contains(e, "HANDSHAKE_FAILURE") ||
      contains(e, "handshake failure") || contains(e, "BAD_CERTIFICATE") || contains(e, "bad certificate") ||
      contains(e, "UNKNOWN_CA") || contains(e, "unknown ca"))
    return plan.flags.client_cert_file.empty()
               ? "TLS handshake failed: the server requires a client certificate (pass --tls-client-cert-file and "
                 "--tls-client-key-file)"
               : "TLS handshake failed: the server rejected the client certificate '" + plan.flags.client_cert_file +
                     "' (not signed by a CA it trusts?)";
  // Over TLS 1.3 the client finishes its side of the handshake before the
  // server checks the client certificate; a refused one shows as a closed connection.
  if (contains(e, "Socket closed") || contains(e, "Connection reset"))
    return plan.flags.client_cert_file.empty()
               ? "the server closed the TLS connection: it requires a client certificate (pass "
                 "--tls-client-cert-file and --tls-client-key-file)"
               : "the server closed the TLS connection: it did not accept the client certificate '" +
                     plan.flags.client_cert_file + "' (not signed by a CA it trusts?)";
  if (contains(e, "WRONG_VERSION_NUMBER") || contains(e, "wrong version number") ||
      contains(e, "packet length too long"))
    return "TLS handshake failed: the server does not speak TLS (drop --tls / tls://)";
  if (contains(e, "andshake") || contains(e, "SSL") || contains(e, "ssl"))
    return "TLS handshake failed";
  return "";
}

}  // namespace cpp::hubble_cli
