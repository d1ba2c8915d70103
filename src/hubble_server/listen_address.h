#pragma once
// hubble-listen-address as upstream writes it (Go's "host:port": ":4244"
// is every address of the host) → the address gRPC binds.
#include <string>

namespace cpp::hubble {

// ":4244" → "[::]:4244" (dual stack; gRPC falls back to 0.0.0.0 without
// IPv6); "127.0.0.1:0", "[::1]:4244", "localhost:4244" unchanged. Throws
// std::invalid_argument naming the address when the port is missing or not
// a number in 0..65535.
std::string grpc_tcp_address(const std::string& listen_address);

}  // namespace cpp::hubble
