#pragma once
// ResourceStore: where Kubernetes-shaped objects live (brief decision 5).
// Subsystems see put/get/list/remove and a watch stream and never know
// whether the objects come from a directory, etcd or the Kubernetes API.
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/resource.h"

namespace cpp::store {

enum class EventType { Added, Modified, Deleted };
const char* to_string(EventType t);

enum class PutOutcome { Created, Updated, Unchanged };
const char* to_string(PutOutcome o);  // "created", "configured", "unchanged" (kubectl words)

struct PutResult {
  json object;  // the object as stored (with resourceVersion, uid, ...)
  PutOutcome outcome = PutOutcome::Created;
};

// Called for every change of a watched kind. Added also replays the objects
// that exist when the watch starts (see watch()). Deleted carries the last
// object seen. Runs on the store's watch thread after the initial replay:
// keep it short and thread-safe.
using WatchCallback = std::function<void(EventType, const json&)>;

// Changes a stored object in place; returns false to leave it as it is.
// May run more than once (see ResourceStore::update): keep it free of side
// effects.
using Mutator = std::function<bool(json&)>;

// A running watch; stops when stop() is called or the handle is destroyed.
// After stop() returns the callback is never called again.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
  virtual void stop() = 0;
};

struct WatchOptions {
  std::string ns;              // only this namespace ("" = all)
  bool replay_existing = true; // deliver Added for existing objects, synchronously, before watch() returns
};

class ResourceStore {
 public:
  virtual ~ResourceStore() = default;

  // Validates and normalizes obj (throws std::invalid_argument), then stores it.
  // Server-owned metadata: uid and creationTimestamp are kept from the stored
  // object (or taken from obj, or generated when absent); resourceVersion is
  // assigned on every write; generation starts at 1 and grows when spec
  // changes. Writing an object equal to the stored one is a no-op (Unchanged).
  virtual PutResult put(json obj) = 0;

  // ns is ignored for cluster-scoped kinds; "" means "default" for namespaced
  // kinds. Unknown kinds throw std::invalid_argument.
  virtual std::optional<json> get(const std::string& kind, const std::string& ns, const std::string& name) = 0;
  // All objects of a kind, sorted by namespace then name; ns "" = all namespaces.
  virtual std::vector<json> list(const std::string& kind, const std::string& ns = "") = 0;
  // true when something was removed.
  virtual bool remove(const std::string& kind, const std::string& ns, const std::string& name) = 0;
  // Removes the object only while it still has resource_version, the version
  // the caller decided on (Kubernetes' DeleteOptions.preconditions): false
  // when it is gone or another writer changed or re-created it since. A
  // collector deleting what it found unused must not delete a fresh claim.
  virtual bool remove_version(const std::string& kind, const std::string& ns, const std::string& name,
                              const std::string& resource_version) = 0;

  // Read-modify-write without losing a concurrent writer's change: mutate
  // sees the stored object; when another writer changed it in between, the
  // write is retried on the new version (Kubernetes' GET + PUT with
  // resourceVersion, retried on Conflict). Several writers that own
  // different parts of one object (each agent its node's entry in a status)
  // use this. nullopt when the object does not exist; Unchanged when mutate
  // returned false or changed nothing. The result is validated as put does.
  virtual std::optional<PutResult> update(const std::string& kind, const std::string& ns, const std::string& name,
                                          const Mutator& mutate) = 0;

  // Stores obj only when no object of that kind, namespace and name exists
  // (Kubernetes' POST, 409 AlreadyExists otherwise): false when one does,
  // whatever it holds. Validated as put does. Writers that claim a name
  // (an identity's id) use this; put would overwrite the other claimant.
  virtual bool create(json obj) = 0;

  virtual std::unique_ptr<WatchHandle> watch(const std::string& kind, WatchCallback cb,
                                             WatchOptions opts = {}) = 0;
};

// One JSON file per object at <dir>/<kind>/<namespace or _cluster>/<name>.json,
// written atomically. Several processes (the agents of a lab) may share one
// directory: writers serialize on <dir>/.lock (flock), readers rely on
// rename(2) being atomic. Watches poll the directory. Files that fail to
// parse are logged with their path and skipped.
class DirectoryStore : public ResourceStore {
 public:
  explicit DirectoryStore(std::string dir,
                          std::chrono::milliseconds poll_interval = std::chrono::milliseconds(200));

  PutResult put(json obj) override;
  std::optional<json> get(const std::string& kind, const std::string& ns, const std::string& name) override;
  std::vector<json> list(const std::string& kind, const std::string& ns = "") override;
  bool remove(const std::string& kind, const std::string& ns, const std::string& name) override;
  bool remove_version(const std::string& kind, const std::string& ns, const std::string& name,
                      const std::string& resource_version) override;
  std::optional<PutResult> update(const std::string& kind, const std::string& ns, const std::string& name,
                                  const Mutator& mutate) override;
  bool create(json obj) override;
  std::unique_ptr<WatchHandle> watch(const std::string& kind, WatchCallback cb, WatchOptions opts = {}) override;

  const std::string& dir() const { return dir_; }
  // Path of the file that holds (kind, ns, name).
  std::string path_for(const std::string& kind, const std::string& ns, const std::string& name) const;

 private:
  std::string dir_;
  std::chrono::milliseconds poll_interval_;
};

}  // namespace cpp::store
