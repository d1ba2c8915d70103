#include "kvstore/etcd_client.h"

#include <algorithm>
#include <thread>

#include "kvstore/etcd_channel.h"

namespace cpp::kvstore {

using detail::Endpoint;
using detail::Mode;
using detail::with_retries;

struct EtcdClient::Impl {
  std::shared_ptr<detail::Endpoints> eps;
};

namespace detail {

KeyValue to_key_value(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

}  // namespace detail

namespace {

std::vector<KeyValue> to_key_values(const etcdserverpb::RangeResponse& r) {
  std::vector<KeyValue> out;
  out.reserve(r.kvs_size());
  for (const auto& kv : r.kvs()) out.push_back(detail::to_key_value(kv));
  return out;
}

void fill_compare(etcdserverpb::Compare& c, const Compare& in) {
  c.set_key(in.key);
  switch (in.op) {
    case Compare::Op::Equal: c.set_result(etcdserverpb::Compare_CompareResult_EQUAL); break;
    case Compare::Op::NotEqual: c.set_result(etcdserverpb::Compare_CompareResult_NOT_EQUAL); break;
    case Compare::Op::Greater: c.set_result(etcdserverpb::Compare_CompareResult_GREATER); break;
    case Compare::Op::Less: c.set_result(etcdserverpb::Compare_CompareResult_LESS); break;
  }
  switch (in.target) {
    case Compare::Target::Version:
      c.set_target(etcdserverpb::Compare_CompareTarget_VERSION);
      c.set_version(in.number);
      break;
    case Compare::Target::CreateRevision:
      c.set_target(etcdserverpb::Compare_CompareTarget_CREATE);
      c.set_create_revision(in.number);
      break;
    case Compare::Target::ModRevision:
      c.set_target(etcdserverpb::Compare_CompareTarget_MOD);
      c.set_mod_revision(in.number);
      break;
    case Compare::Target::Value:
      c.set_target(etcdserverpb::Compare_CompareTarget_VALUE);
      c.set_value(in.value);
      break;
  }
}

void fill_op(etcdserverpb::RequestOp& r, const TxnOp& op) {
  switch (op.kind) {
    case TxnOp::Kind::Put: {
      auto* p = r.mutable_request_put();
      p->set_key(op.key);
      p->set_value(op.value);
      p->set_lease(op.lease);
      break;
    }
    case TxnOp::Kind::Delete:
      r.mutable_request_delete_range()->set_key(op.key);
      break;
    case TxnOp::Kind::DeletePrefix: {
      auto* d = r.mutable_request_delete_range();
      d->set_key(op.key.empty() ? std::string(1, '\0') : op.key);
      d->set_range_end(detail::prefix_end(op.key));
      break;
    }
    case TxnOp::Kind::Get:
      r.mutable_request_range()->set_key(op.key);
      break;
    case TxnOp::Kind::GetPrefix: {
      auto* g = r.mutable_request_range();
      g->set_key(op.key.empty() ? std::string(1, '\0') : op.key);
      g->set_range_end(detail::prefix_end(op.key));
      break;
    }
  }
}

etcdserverpb::RangeRequest range_request(const std::string& key, bool prefix) {
  etcdserverpb::RangeRequest req;
  if (prefix) {
    req.set_key(key.empty() ? std::string(1, '\0') : key);
    req.set_range_end(detail::prefix_end(key));
  } else {
    req.set_key(key);
  }
  return req;
}

}  // namespace

EtcdClient::EtcdClient(EtcdOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->eps = std::make_shared<detail::Endpoints>(opts);
}

EtcdClient::~EtcdClient() = default;

const EtcdOptions& EtcdClient::options() const { return impl_->eps->options(); }

bool EtcdClient::reachable() {
  auto& eps = *impl_->eps;
  const auto deadline = detail::Clock::now() + eps.options().dial_timeout;
  // A linearizable read: a member cut off from the quorum does not count.
  // Each connected member gets a share of the time, so one stuck member
  // does not hide the others.
  const auto share = std::max<detail::Clock::duration>(eps.options().dial_timeout / eps.size(),
                                                       std::chrono::milliseconds(300));
  do {
    for (size_t k = 0; k < eps.size(); ++k) {
      size_t i = (eps.preferred() + k) % eps.size();
      auto now = detail::Clock::now();
      if (now >= deadline) return false;
      if (!eps.wait_connected(i, deadline)) continue;
      grpc::ClientContext ctx;
      ctx.set_deadline(detail::grpc_deadline(std::min(deadline, detail::Clock::now() + share)));
      etcdserverpb::RangeRequest req = range_request(keys::kStatePrefix, false);
      req.set_count_only(true);
      etcdserverpb::RangeResponse resp;
      if (eps.at(i).kv->Range(&ctx, req, &resp).ok()) {
        eps.prefer(i);
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (detail::Clock::now() < deadline);
  return false;
}

size_t EtcdClient::connected_endpoints() const {
  size_t n = 0;
  for (size_t i = 0; i < impl_->eps->size(); ++i)
    if (impl_->eps->at(i).channel->GetState(false) == GRPC_CHANNEL_READY) ++n;
  return n;
}

std::optional<KeyValue> EtcdClient::get(const std::string& key) {
  etcdserverpb::RangeResponse resp;
  with_retries(*impl_->eps, Mode::Read, "get " + key, [&](Endpoint& ep, grpc::ClientContext& ctx) {
    resp.Clear();
    return ep.kv->Range(&ctx, range_request(key, false), &resp);
  });
  if (resp.kvs_size() == 0) return std::nullopt;
  return detail::to_key_value(resp.kvs(0));
}

RangeResult EtcdClient::get_prefix(const std::string& prefix) {
  etcdserverpb::RangeResponse resp;
  with_retries(*impl_->eps, Mode::Read, "get prefix " + prefix, [&](Endpoint& ep, grpc::ClientContext& ctx) {
    resp.Clear();
    return ep.kv->Range(&ctx, range_request(prefix, true), &resp);
  });
  return {to_key_values(resp), resp.header().revision()};
}

int64_t EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  etcdserverpb::PutResponse resp;
  with_retries(*impl_->eps, Mode::Write, "put " + key,
               [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->Put(&ctx, req, &resp); });
  return resp.header().revision();
}

namespace {

int64_t delete_range(detail::Endpoints& eps, const std::string& key, bool prefix) {
  etcdserverpb::DeleteRangeRequest req;
  if (prefix) {
    req.set_key(key.empty() ? std::string(1, '\0') : key);
    req.set_range_end(detail::prefix_end(key));
  } else {
    req.set_key(key);
  }
  etcdserverpb::DeleteRangeResponse resp;
  with_retries(eps, Mode::Write, (prefix ? "delete prefix " : "delete ") + key,
               [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->DeleteRange(&ctx, req, &resp); });
  return resp.deleted();
}

}  // namespace

int64_t EtcdClient::del(const std::string& key) { return delete_range(*impl_->eps, key, false); }

int64_t EtcdClient::del_prefix(const std::string& prefix) { return delete_range(*impl_->eps, prefix, true); }

TxnResult EtcdClient::txn(const std::vector<Compare>& guard, const std::vector<TxnOp>& then_ops,
                          const std::vector<TxnOp>& else_ops) {
  etcdserverpb::TxnRequest req;
  for (const auto& c : guard) fill_compare(*req.add_compare(), c);
  for (const auto& op : then_ops) fill_op(*req.add_success(), op);
  for (const auto& op : else_ops) fill_op(*req.add_failure(), op);
  etcdserverpb::TxnResponse resp;
  std::string what = "txn";
  if (!guard.empty()) what += " on " + guard.front().key;
  with_retries(*impl_->eps, Mode::Write, what,
               [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->Txn(&ctx, req, &resp); });
  TxnResult out;
  out.succeeded = resp.succeeded();
  out.revision = resp.header().revision();
  for (const auto& r : resp.responses()) {
    if (r.has_response_range()) {
      std::vector<KeyValue> kvs;
      for (const auto& kv : r.response_range().kvs()) kvs.push_back(detail::to_key_value(kv));
      out.reads.push_back(std::move(kvs));
    } else {
      out.reads.emplace_back();
    }
  }
  return out;
}

int64_t EtcdClient::lease_grant(int64_t ttl_seconds) {
  if (ttl_seconds <= 0) throw std::invalid_argument("etcd lease: ttl must be positive");
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse resp;
  // A grant whose answer got lost leaves an unused lease that expires on
  // its own, so it is retried like a read.
  with_retries(*impl_->eps, Mode::Read, "lease grant", [&](Endpoint& ep, grpc::ClientContext& ctx) {
    resp.Clear();
    return ep.lease->LeaseGrant(&ctx, req, &resp);
  });
  if (!resp.error().empty()) throw std::runtime_error("etcd lease grant: " + resp.error());
  return resp.id();
}

void EtcdClient::lease_revoke(int64_t lease) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(lease);
  etcdserverpb::LeaseRevokeResponse resp;
  // Revoking twice is harmless; "not found" means it is gone already.
  with_retries(*impl_->eps, Mode::Read, "lease revoke", [&](Endpoint& ep, grpc::ClientContext& ctx) {
    grpc::Status st = ep.lease->LeaseRevoke(&ctx, req, &resp);
    if (st.error_code() == grpc::StatusCode::NOT_FOUND) return grpc::Status::OK;
    return st;
  });
}

std::unique_ptr<LeaseKeeper> EtcdClient::keep_alive(int64_t ttl_seconds, std::function<void()> on_lost) {
  int64_t id = lease_grant(ttl_seconds);
  return detail::start_keeper(impl_->eps, id, ttl_seconds, std::move(on_lost));
}

std::unique_ptr<Watch> EtcdClient::watch_prefix(const std::string& prefix, int64_t start_revision,
                                                std::function<void(const std::vector<WatchEvent>&)> on_events,
                                                std::function<void()> on_compacted) {
  return detail::start_watch(impl_->eps, prefix, start_revision, std::move(on_events), std::move(on_compacted));
}

}  // namespace cpp::kvstore
