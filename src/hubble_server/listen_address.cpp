#include "hubble_server/listen_address.h"

#include <stdexcept>

namespace cpp::hubble {

std::string grpc_tcp_address(const std::string& addr) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("hubble-listen-address \"" + addr + "\": " + why);
  };
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos) throw bad("missing \":port\"");
  std::string host = addr.substr(0, colon);
  const std::string port = addr.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535)
    throw bad("port \"" + port + "\" is not a number in 0..65535");
  if (host.find(':') != std::string::npos && (host.front() != '[' || host.back() != ']'))
    throw bad("IPv6 host must be in brackets, e.g. [::1]:4244");
  if (host.empty()) host = "[::]";
  return host + ":" + port;
}

}  // namespace cpp::hubble
