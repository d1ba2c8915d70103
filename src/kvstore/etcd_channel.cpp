#include "kvstore/etcd_channel.h"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace cpp::kvstore::detail {

std::string dial_target(const std::string& endpoint) {
  std::string t = endpoint;
  if (t.rfind("https://", 0) == 0 || t.rfind("unixs://", 0) == 0)
    throw std::invalid_argument("etcd endpoint \"" + endpoint + "\": TLS endpoints are not supported yet");
  if (t.rfind("http://", 0) == 0) t = t.substr(7);
  if (t.find("://") != std::string::npos)
    throw std::invalid_argument("etcd endpoint \"" + endpoint + "\": expected http://host:port or host:port");
  while (!t.empty() && t.back() == '/') t.pop_back();
  auto colon = t.rfind(':');
  if (t.empty() || colon == std::string::npos || colon + 1 == t.size() || t.find('/') != std::string::npos)
    throw std::invalid_argument("etcd endpoint \"" + endpoint + "\": expected host:port");
  return t;
}

namespace {

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

}  // namespace

Failure classify(const grpc::Status& st) {
  const std::string& m = st.error_message();
  switch (st.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // Refused before the request reached raft: the member has no leader,
      // cannot serve this yet, or we never had a connection.
      if (contains(m, "etcdserver: no leader") || contains(m, "etcdserver: not capable") ||
          contains(m, "failed to connect") || contains(m, "Connection refused") ||
          contains(m, "connections to all backends failing") || contains(m, "DNS resolution failed"))
        return Failure::NotExecuted;
      return Failure::Ambiguous;  // request timed out, leader changed, connection lost mid-request
    case grpc::StatusCode::RESOURCE_EXHAUSTED:  // "too many requests": rejected before proposing
      return Failure::NotExecuted;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::ABORTED:
      return Failure::Ambiguous;
    default:
      return Failure::Final;
  }
}

std::string describe(const grpc::Status& st) {
  return "grpc status " + std::to_string(static_cast<int>(st.error_code())) + ": " + st.error_message();
}

Endpoints::Endpoints(const EtcdOptions& opts) : opts_(opts) {
  if (opts_.endpoints.empty()) throw std::invalid_argument("etcd: no endpoints configured");
  if (opts_.request_timeout.count() <= 0 || opts_.dial_timeout.count() <= 0)
    throw std::invalid_argument("etcd: request_timeout and dial_timeout must be positive");
  grpc::ChannelArguments args;
  // Reconnect to a restarted member within our own backoff bounds, not
  // gRPC's default of up to two minutes.
  int initial = static_cast<int>(std::max<int64_t>(opts_.backoff_initial.count(), 50));
  int maxb = static_cast<int>(std::max<int64_t>(opts_.backoff_max.count(), initial));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, initial);
  // Despite its name this is the least time one connect attempt gets; a
  // member that is still starting needs more than a backoff step.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(opts_.dial_timeout.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, maxb);
  // Detect a member that stopped answering on a long-lived watch stream.
  // etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 128 << 20);
  // Own subchannels per client: one client's backoff state never leaks into another's.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  for (const auto& e : opts_.endpoints) {
    Endpoint ep;
    ep.target = dial_target(e);
    ep.channel = grpc::CreateCustomChannel(ep.target, grpc::InsecureChannelCredentials(), args);
    ep.kv = etcdserverpb::KV::NewStub(ep.channel);
    ep.watch = etcdserverpb::Watch::NewStub(ep.channel);
    ep.lease = etcdserverpb::Lease::NewStub(ep.channel);
    eps_.push_back(std::move(ep));
  }
  monitor_ = std::thread(&Endpoints::monitor, this);
}

Endpoints::~Endpoints() {
  stopping_ = true;
  monitor_.join();
}

void Endpoints::monitor() {
  constexpr auto kRearm = std::chrono::milliseconds(500);
  for (size_t i = 0; i < eps_.size(); ++i)
    eps_[i].channel->NotifyOnStateChange(eps_[i].channel->GetState(true), grpc_deadline(Clock::now() + kRearm), &cq_,
                                         reinterpret_cast<void*>(i));
  size_t pending = eps_.size();
  void* tag = nullptr;
  bool ok = false;
  while (pending > 0 && cq_.Next(&tag, &ok)) {
    if (stopping_) {
      --pending;
      continue;
    }
    auto& ch = *eps_[reinterpret_cast<size_t>(tag)].channel;
    ch.NotifyOnStateChange(ch.GetState(true), grpc_deadline(Clock::now() + kRearm), &cq_, tag);
  }
  cq_.Shutdown();
  while (cq_.Next(&tag, &ok)) {
  }
}

std::string Endpoints::list() const {
  std::string s;
  for (const auto& e : eps_) s += (s.empty() ? "" : ",") + e.target;
  return s;
}

bool Endpoints::wait_connected(size_t i, Clock::time_point deadline, const std::atomic<bool>* abort) {
  auto& ch = *eps_[i].channel;
  constexpr auto kSlice = std::chrono::milliseconds(50);
  while (true) {
    auto state = ch.GetState(true);
    if (state == GRPC_CHANNEL_READY) return true;
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    auto now = Clock::now();
    if (now >= deadline || (abort && abort->load())) return false;
    ch.WaitForStateChange(state, grpc_deadline(std::min(deadline, now + kSlice)));
  }
}

void with_retries(Endpoints& eps, Mode mode, const std::string& what,
                  const std::function<grpc::Status(Endpoint&, grpc::ClientContext&)>& op) {
  const auto& o = eps.options();
  const auto deadline = Clock::now() + o.request_timeout;
  // A read stuck on a member that lost its leader moves on to another member.
  const auto read_attempt = std::max<std::chrono::milliseconds>(o.request_timeout / 3, o.dial_timeout);
  auto backoff = o.backoff_initial;
  std::string last_error = "no endpoint connected";
  const size_t n = eps.size();
  while (true) {
    size_t start = eps.preferred();
    for (size_t k = 0; k < n; ++k) {
      size_t i = (start + k) % n;
      auto now = Clock::now();
      if (now >= deadline) break;
      Endpoint& ep = eps.at(i);
      if (!eps.wait_connected(i, std::min(deadline, now + o.dial_timeout))) {
        last_error = ep.target + ": not connected";
        continue;
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(grpc_deadline(mode == Mode::Read ? std::min(deadline, Clock::now() + read_attempt) : deadline));
      grpc::Status st = op(ep, ctx);
      if (st.ok()) {
        eps.prefer(i);
        return;
      }
      last_error = ep.target + ": " + describe(st);
      switch (classify(st)) {
        case Failure::NotExecuted:
          break;
        case Failure::Ambiguous:
          if (mode == Mode::Write)
            throw UnknownOutcome("etcd " + what + ": outcome unknown, the request may still be committed (" +
                                 last_error + ")");
          break;
        case Failure::Final:
          throw std::runtime_error("etcd " + what + ": " + last_error);
      }
    }
    auto now = Clock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - now));
    backoff = std::min(backoff * 2, o.backoff_max);
  }
  throw Unavailable("etcd " + what + ": no endpoint of [" + eps.list() + "] answered within " +
                    std::to_string(o.request_timeout.count()) + " ms (last error: " + last_error + ")");
}

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace cpp::kvstore::detail
