#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace cpp::api {

struct HttpRequest {
  std::string method;
  std::string path;   // without the query string
  std::string query;  // raw, after '?'
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

// HTTP/1.1 over a unix socket, one request per connection. The agent's local
// API needs no more than that, and cpp-httplib in Debian 12 has no AF_UNIX support.
class UnixHttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  UnixHttpServer(std::string socket_path, Handler handler);
  ~UnixHttpServer();
  // Binds (replacing a stale socket file) and starts serving on a thread.
  void start();
  void stop();

 private:
  void serve();
  void handle_connection(int fd);
  std::string path_;
  Handler handler_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

struct ClientResponse {
  int status = 0;
  std::string body;
};

class UnixHttpClient {
 public:
  explicit UnixHttpClient(std::string socket_path, int timeout_ms = 30000)
      : path_(std::move(socket_path)), timeout_ms_(timeout_ms) {}
  // Throws std::runtime_error when the agent cannot be reached.
  ClientResponse request(const std::string& method, const std::string& path,
                         const std::string& body = "") const;

 private:
  std::string path_;
  int timeout_ms_;
};

// Reads one HTTP message (request or response) from fd: start line, headers,
// and a Content-Length body. Exposed for tests.
bool read_http_message(int fd, std::string& start_line, std::map<std::string, std::string>& headers,
                       std::string& body);

}  // namespace cpp::api
