#pragma once
// ResourceStore over the Kubernetes API (brief decision 5's third source):
// the agent's subsystems see the same put/get/list/remove/update/watch as
// with the directory or etcd. Writes are optimistic (GET, then PUT with the
// resourceVersion read, retried on 409 Conflict); status goes through the
// /status subresource where the server has one. Watches are reflectors
// (list+watch with relist on 410), one per watch() call. put() counts an
// object as unchanged when everything the caller wrote is already stored
// (the server adds defaults); a key left out of a map is therefore not
// removed by put(): update() compares whole objects.
#include <memory>

#include "k8s/client/kube_client.h"
#include "k8s/client/reflector.h"
#include "store/store.h"

namespace cpp::k8s {

class KubeStore : public store::ResourceStore {
 public:
  explicit KubeStore(std::shared_ptr<KubeClient> client, Reflector::Options reflector_opts = {});

  store::PutResult put(nlohmann::json obj) override;
  std::optional<nlohmann::json> get(const std::string& kind, const std::string& ns, const std::string& name) override;
  std::vector<nlohmann::json> list(const std::string& kind, const std::string& ns = "") override;
  bool remove(const std::string& kind, const std::string& ns, const std::string& name) override;
  bool remove_version(const std::string& kind, const std::string& ns, const std::string& name,
                      const std::string& resource_version) override;
  std::optional<store::PutResult> update(const std::string& kind, const std::string& ns, const std::string& name,
                                         const store::Mutator& mutate) override;
  bool create(nlohmann::json obj) override;
  std::unique_ptr<store::WatchHandle> watch(const std::string& kind, store::WatchCallback cb,
                                            store::WatchOptions opts = {}) override;

  // A JSON merge patch (RFC 7386) of the object, or of its status
  // subresource; no read first, so no conflict to retry. nullopt when the
  // object does not exist; the patched object otherwise.
  std::optional<nlohmann::json> merge_patch(const std::string& kind, const std::string& ns, const std::string& name,
                                            const nlohmann::json& patch, bool status = false);

 private:
  // Writes wanted over existing (nullopt: create); nullopt when the server
  // said Conflict/AlreadyExists (the caller re-reads and tries again).
  std::optional<store::PutResult> write(const nlohmann::json& wanted, const std::optional<nlohmann::json>& existing);

  std::shared_ptr<KubeClient> client_;
  Reflector::Options reflector_opts_;
};

}  // namespace cpp::k8s
