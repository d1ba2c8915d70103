#include "health/responder.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include "netlink/netns.h"

namespace cpp::health {

Responder::Responder() : server_(std::make_unique<httplib::Server>()) {
  server_->Get("/hello", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content("ok\n", "text/plain");
  });
}

Responder::~Responder() { stop(); }

void Responder::start(const IpAddr& addr, int port, const NetnsHandle* ns) {
  auto bind = [&] { return server_->bind_to_port(addr.str(), port); };
  bool bound = ns ? run_in_netns(*ns, bind) : bind();
  if (!bound) throw std::runtime_error("health responder: cannot bind " + addr.str() + " port " + std::to_string(port));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void Responder::stop() {
  if (thread_.joinable()) {
    // httplib's stop() does nothing until the listen loop runs: wait for it.
    for (int i = 0; i < 2000 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server_->stop();
    thread_.join();
  }
}

}  // namespace cpp::health
