#pragma once
// The HTTP side of a health target: GET /hello → 200, on one address and
// port (upstream cilium-health's 4240). The listening socket may be created
// inside another network namespace; the socket keeps that namespace, so it is
// then served from an ordinary thread.
#include <memory>
#include <string>
#include <thread>

#include "common/ip.h"

namespace httplib {
class Server;
}

namespace cpp {
class NetnsHandle;
}

namespace cpp::health {

inline constexpr int kHealthPort = 4240;

class Responder {
 public:
  Responder();
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Binds addr:port (in `ns` when given, else the caller's namespace) and
  // starts serving. Throws std::runtime_error naming the address.
  void start(const IpAddr& addr, int port, const NetnsHandle* ns = nullptr);
  void stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cpp::health
