#include "k8s/client/kube_client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/files.h"

namespace cpp::k8s {
namespace {

struct Url {
  bool tls = true;
  std::string host;
  int port = 443;
};

Url parse_url(const std::string& server) {
  Url u;
  std::string rest = server;
  if (rest.rfind("https://", 0) == 0) {
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    u.tls = false;
    u.port = 80;
    rest = rest.substr(7);
  } else {
    throw std::invalid_argument("kubernetes server \"" + server + "\": not an http(s) URL");
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) throw std::invalid_argument("kubernetes server \"" + server + "\": bad IPv6 host");
    u.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') u.port = std::stoi(rest.substr(close + 2));
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    u.host = rest.substr(0, colon);
    u.port = std::stoi(rest.substr(colon + 1));
  } else {
    u.host = rest;
  }
  return u;
}

// "Status" bodies carry reason and message; anything else is reported as is.
ApiError error_from(int code, const std::string& body) {
  std::string reason, message;
  try {
    auto j = nlohmann::json::parse(body);
    if (j.is_object()) {
      reason = j.value("reason", "");
      message = j.value("message", "");
    }
  } catch (const nlohmann::json::exception&) {
  }
  if (message.empty()) message = body.substr(0, 200);
  return ApiError(code, reason, "kubernetes API: " + std::to_string(code) + (reason.empty() ? "" : " " + reason) +
                                    ": " + message);
}

template <typename T, void (*Free)(T*)>
struct OsslPtr {
  T* p = nullptr;
  ~OsslPtr() {
    if (p) Free(p);
  }
};

}  // namespace

KubeClient::KubeClient(Options opts) : opts_(std::move(opts)), limiter_(opts_.qps, opts_.burst) {
  parse_url(opts_.config.server);  // refuse a bad URL now, not at the first request
}

KubeClient::~KubeClient() = default;

std::unique_ptr<httplib::ClientImpl> KubeClient::connect(std::chrono::seconds read_timeout) const {
  Url u = parse_url(opts_.config.server);
  std::unique_ptr<httplib::ClientImpl> c;
  if (!u.tls) {
    c = std::make_unique<httplib::ClientImpl>(u.host, u.port);
  } else {
    std::unique_ptr<httplib::SSLClient> s;
    const auto& cfg = opts_.config;
    if (!cfg.client_cert_pem.empty()) {
      OsslPtr<BIO, BIO_free_all> cb{BIO_new_mem_buf(cfg.client_cert_pem.data(), static_cast<int>(cfg.client_cert_pem.size()))};
      OsslPtr<BIO, BIO_free_all> kb{BIO_new_mem_buf(cfg.client_key_pem.data(), static_cast<int>(cfg.client_key_pem.size()))};
      OsslPtr<X509, X509_free> cert{PEM_read_bio_X509(cb.p, nullptr, nullptr, nullptr)};
      OsslPtr<EVP_PKEY, EVP_PKEY_free> key{PEM_read_bio_PrivateKey(kb.p, nullptr, nullptr, nullptr)};
      if (!cert.p || !key.p) throw ApiUnavailable("kubernetes: the client certificate or key is not PEM");
      s = std::make_unique<httplib::SSLClient>(u.host, u.port, cert.p, key.p);
    } else {
      s = std::make_unique<httplib::SSLClient>(u.host, u.port);
    }
    if (!cfg.ca_pem.empty()) {
      X509_STORE* store = X509_STORE_new();
      OsslPtr<BIO, BIO_free_all> b{BIO_new_mem_buf(cfg.ca_pem.data(), static_cast<int>(cfg.ca_pem.size()))};
      int n = 0;
      while (X509* x = PEM_read_bio_X509(b.p, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, x);
        X509_free(x);
        ++n;
      }
      if (n == 0) {
        X509_STORE_free(store);
        throw ApiUnavailable("kubernetes: the certificate authority holds no PEM certificate");
      }
      s->set_ca_cert_store(store);  // the client owns it now
    }
    s->enable_server_certificate_verification(!cfg.insecure_skip_tls_verify);
    c = std::move(s);
  }
  c->set_connection_timeout(std::chrono::seconds(5));
  c->set_read_timeout(read_timeout);
  c->set_write_timeout(opts_.timeout);
  c->set_keep_alive(true);
  return c;
}

std::multimap<std::string, std::string> KubeClient::headers() {
  std::multimap<std::string, std::string> h{{"Accept", "application/json"}, {"User-Agent", "cilium-agent/ciliumpp"}};
  std::lock_guard l(mu_);
  if (!opts_.config.token.empty()) h.emplace("Authorization", "Bearer " + opts_.config.token);
  return h;
}

void KubeClient::refresh_token() {
  if (opts_.config.token_file.empty()) return;
  auto t = cpp::read_file(opts_.config.token_file);
  if (!t) return;
  while (!t->empty() && (t->back() == '\n' || t->back() == '\r')) t->pop_back();
  std::lock_guard l(mu_);
  opts_.config.token = *t;
}

nlohmann::json KubeClient::call(const std::string& method, const std::string& path, const nlohmann::json* body,
                                const std::string& content_type) {
  for (int attempt = 0;; ++attempt) {
    limiter_.wait();
    httplib::Request req;
    req.method = method;
    req.path = path;
    for (const auto& [k, v] : headers()) req.headers.emplace(k, v);
    if (body) {
      req.body = body->dump();
      req.headers.emplace("Content-Type", content_type);
    }
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok;
    {
      std::lock_guard l(mu_);
      if (!unary_) unary_ = connect(opts_.timeout);
      ok = unary_->send(req, res, err);
      if (!ok) unary_.reset();  // a dead keep-alive connection: the next try opens a new one
    }
    if (!ok) {
      if (attempt == 0) continue;
      throw ApiUnavailable("kubernetes API " + opts_.config.server + ": " + method + " " + path + ": " +
                           httplib::to_string(err));
    }
    if (res.status == 401 && attempt == 0 && !opts_.config.token_file.empty()) {
      refresh_token();
      continue;
    }
    if (res.status < 200 || res.status > 299) throw error_from(res.status, res.body);
    try {
      return nlohmann::json::parse(res.body);
    } catch (const nlohmann::json::exception&) {
      throw ApiUnavailable("kubernetes API: " + method + " " + path + ": the answer is not JSON: " +
                           res.body.substr(0, 80));
    }
  }
}

void KubeClient::stream(const std::string& path, const std::function<bool(const char*, size_t)>& on_data,
                        std::atomic<StreamId>* id_out, const std::atomic<bool>* stopping) {
  limiter_.wait();
  // Watches end on the server's timeoutSeconds; a silent connection for longer
  // than that plus a margin is dead.
  auto client = connect(std::chrono::seconds(330));
  StreamId id = next_stream_++;
  {
    std::lock_guard l(streams_mu_);
    streams_[id] = client.get();
  }
  if (id_out) *id_out = id;
  // Whoever stops us set *stopping before reading *id_out: either it saw the
  // id and cancels the connection, or we see the flag here.
  if (stopping && *stopping) {
    std::lock_guard l(streams_mu_);
    streams_.erase(id);
    return;
  }
  int status = 0;
  std::string error_body;
  bool cancelled = false;
  httplib::Request req;
  req.method = "GET";
  req.path = path;
  for (const auto& [k, v] : headers()) req.headers.emplace(k, v);
  req.response_handler = [&](const httplib::Response& r) {
    status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (status != 200) {
      if (error_body.size() < 4096) error_body.append(data, len);
      return true;
    }
    if (!on_data(data, len)) {
      cancelled = true;
      return false;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool ok = client->send(req, res, err);
  bool stopped;
  {
    std::lock_guard l(streams_mu_);
    stopped = streams_.erase(id) == 0;  // cancel() took it out
  }
  if (cancelled || stopped) return;
  if (status != 0 && status != 200) throw error_from(status, error_body.empty() ? res.body : error_body);
  if (!ok) throw ApiUnavailable("kubernetes API " + opts_.config.server + ": watch " + path + ": " + httplib::to_string(err));
}

void KubeClient::cancel(StreamId id) {
  std::lock_guard l(streams_mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second->stop();
  streams_.erase(it);
}

ApiResource KubeClient::resource(const std::string& kind) {
  {
    std::lock_guard l(discovery_mu_);
    if (auto it = resources_.find(kind); it != resources_.end()) return it->second;
  }
  ApiResource r = resource_for(kind);
  if (r.group.empty()) return r;
  try {
    auto g = call("GET", "/apis/" + r.group);
    std::vector<std::string> served;
    for (const auto& v : g.value("versions", nlohmann::json::array())) served.push_back(v.value("version", ""));
    std::string preferred = g.value("preferredVersion", nlohmann::json::object()).value("version", "");
    auto v = pick_version(*store::find_kind(kind), served, preferred);
    if (v) {
      r = resource_for(kind, *v);
      std::lock_guard l(discovery_mu_);
      resources_[kind] = r;
    }
  } catch (const std::runtime_error&) {
    // Not cached: the next call asks again; meanwhile the kind's first version.
  }
  return r;
}

}  // namespace cpp::k8s
