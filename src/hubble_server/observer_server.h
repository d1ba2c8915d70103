#pragma once
// Hubble's Observer gRPC service (observer.Observer: GetFlows, GetNodes,
// ServerStatus) over a node's FlowRing, on TCP `hubble-listen-address` and
// the unix socket `hubble-socket-path` (either may be empty = off), with the
// standard grpc.health.v1.Health service beside it on both (SERVING until
// stop(); see health_service.h).
//
// GetFlows streams run on gRPC's synchronous thread pool, one thread per
// open stream; a stream ends when its client cancels or disconnects, never
// affecting the others. Bad filters and contradictory options are
// INVALID_ARGUMENT with the reason as message.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hubble/flow_ring.h"

namespace cpp::hubble {

struct ObserverOptions {
  std::string node_name;
  std::string version;         // ServerStatus.version, Node.version
  std::string listen_address;  // ":4244", "127.0.0.1:0"; empty: no TCP listener
  std::string socket_path;     // "/var/run/cilium/hubble.sock"; empty: no unix socket
  std::string node_address;    // Node.address in GetNodes; empty: listen_address with the bound port
  // TLS on the TCP listener (upstream hubble-tls-cert-file / -key-file, used
  // when hubble-disable-tls is false). Both empty: plaintext. The unix
  // socket is always plaintext, as upstream's.
  std::string tls_cert_file, tls_key_file;
  // Non-empty (hubble-tls-client-ca-files): clients must present a
  // certificate signed by this CA (mutual TLS).
  std::string tls_client_ca_file;
};

struct ObserverSources {
  const FlowRing* ring = nullptr;                 // must outlive the server
  // cpp_ev_lost summed over CPUs; may be empty. Called from every following
  // stream's thread (about twice a second each), so it must be thread-safe.
  std::function<uint64_t()> ring_buffer_lost;
};

class ObserverServer {
 public:
  ObserverServer(ObserverSources sources, ObserverOptions options);
  ~ObserverServer();  // stop()
  ObserverServer(const ObserverServer&) = delete;
  ObserverServer& operator=(const ObserverServer&) = delete;

  // Binds and starts serving. Throws std::invalid_argument for a malformed
  // listen address, a null ring or half a TLS configuration,
  // std::runtime_error naming what could not be bound (port in use, socket
  // directory not creatable) or read (TLS files). At most once.
  void start();
  // Ends every open stream (within ~100 ms), stops listening, removes the
  // socket file. Idempotent.
  void stop();

  int tcp_port() const;  // the bound TCP port (useful with ":0"); 0 without TCP

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cpp::hubble
