#include "api/unix_http.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace cpp::api {
namespace {

constexpr size_t kMaxMessage = 64 * 1024 * 1024;

sockaddr_un make_addr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool read_http_message(int fd, std::string& start_line, std::map<std::string, std::string>& headers,
                       std::string& body) {
  std::string buf;
  size_t header_end = std::string::npos;
  char chunk[8192];
  while (header_end == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    header_end = buf.find("\r\n\r\n");
    if (buf.size() > kMaxMessage) return false;
  }
  std::istringstream hs(buf.substr(0, header_end));
  std::getline(hs, start_line);
  if (!start_line.empty() && start_line.back() == '\r') start_line.pop_back();
  std::string line;
  while (std::getline(hs, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    headers[lower(line.substr(0, colon))] = value;
  }
  body = buf.substr(header_end + 4);
  size_t want = 0;
  if (auto it = headers.find("content-length"); it != headers.end()) {
    try {
      want = std::stoul(it->second);
    } catch (...) {
      return false;
    }
  }
  if (want > kMaxMessage) return false;
  while (body.size() < want) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    body.append(chunk, static_cast<size_t>(n));
  }
  body.resize(want);
  return true;
}

UnixHttpServer::UnixHttpServer(std::string socket_path, Handler handler)
    : path_(std::move(socket_path)), handler_(std::move(handler)) {}

UnixHttpServer::~UnixHttpServer() { stop(); }

void UnixHttpServer::start() {
  auto addr = make_addr(path_);
  ::unlink(path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error("bind " + path_ + ": " + std::strerror(errno));
  ::chmod(path_.c_str(), 0660);
  if (::listen(listen_fd_, 128) != 0) throw std::runtime_error("listen " + path_ + ": " + std::strerror(errno));
  thread_ = std::thread([this] { serve(); });
}

void UnixHttpServer::stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  ::unlink(path_.c_str());
}

void UnixHttpServer::serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // One thread per connection: a slow client must not stall the CNI plugin's requests.
    std::thread([this, fd] {
      handle_connection(fd);
      ::close(fd);
    }).detach();
  }
}

void UnixHttpServer::handle_connection(int fd) {
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string start;
  std::map<std::string, std::string> headers;
  HttpRequest req;
  HttpResponse resp;
  if (!read_http_message(fd, start, headers, req.body)) {
    resp = {400, R"({"error":"malformed HTTP request"})"};
  } else {
    std::istringstream ss(start);
    std::string target;
    ss >> req.method >> target;
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    try {
      resp = handler_(req);
    } catch (const std::exception& e) {
      resp = {500, nlohmann::json{{"error", e.what()}}.dump()};
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + reason(resp.status) +
                    "\r\nContent-Type: " + resp.content_type +
                    "\r\nContent-Length: " + std::to_string(resp.body.size()) +
                    "\r\nConnection: close\r\n\r\n" + resp.body;
  write_all(fd, out);
}

ClientResponse UnixHttpClient::request(const std::string& method, const std::string& path,
                                       const std::string& body) const {
  auto addr = make_addr(path_);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error("cannot reach cilium-agent at " + path_ + ": " + std::strerror(e));
  }
  std::string out = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json" +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  if (!write_all(fd, out)) {
    ::close(fd);
    throw std::runtime_error("write to cilium-agent at " + path_ + " failed");
  }
  std::string start;
  std::map<std::string, std::string> headers;
  ClientResponse resp;
  bool ok = read_http_message(fd, start, headers, resp.body);
  ::close(fd);
  if (!ok) throw std::runtime_error("no valid response from cilium-agent at " + path_);
  std::istringstream ss(start);
  std::string version;
  ss >> version >> resp.status;
  return resp;
}

}  // namespace cpp::api
