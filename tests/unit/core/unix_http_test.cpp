#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "api/unix_http.h"

using namespace cpp::api;

namespace {
std::string sock_path() { return "/tmp/cpp-http-test-" + std::to_string(::getpid()) + ".sock"; }
}  // namespace

TEST(UnixHttp, RoundTripWithBodyAndQuery) {
  UnixHttpServer server(sock_path(), [](const HttpRequest& r) {
    return HttpResponse{r.path == "/echo" ? 200 : 404, r.method + " " + r.path + " " + r.query + " " + r.body};
  });
  server.start();
  UnixHttpClient client(sock_path());
  std::string big(200000, 'x');
  auto r = client.request("PUT", "/echo?a=1", big);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "PUT /echo a=1 " + big);
  EXPECT_EQ(client.request("GET", "/missing").status, 404);
  server.stop();
  EXPECT_NE(::access(sock_path().c_str(), F_OK), 0) << "socket file removed on stop";
}

TEST(UnixHttp, HandlerExceptionBecomes500Json) {
  UnixHttpServer server(sock_path(), [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  server.start();
  auto r = UnixHttpClient(sock_path()).request("GET", "/");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("boom"), std::string::npos);
}

TEST(UnixHttp, GarbageRequestGets400) {
  UnixHttpServer server(sock_path(), [](const HttpRequest&) { return HttpResponse{}; });
  server.start();
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, sock_path().c_str());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string junk = "GET / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n";
  ASSERT_GT(::send(fd, junk.data(), junk.size(), 0), 0);
  char buf[512] = {};
  ssize_t n = ::recv(fd, buf, sizeof(buf) - 1, 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf).find("400"), std::string::npos);
}

TEST(UnixHttp, ClientReportsUnreachableAgent) {
  UnixHttpClient client("/tmp/cpp-http-test-does-not-exist.sock");
  try {
    client.request("GET", "/v1/healthz");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach cilium-agent"), std::string::npos);
  }
}
