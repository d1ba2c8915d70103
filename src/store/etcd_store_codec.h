#pragma once
// Internal to EtcdStore: key layout and decoding of stored values.
#include <optional>
#include <string>
#include <utility>

#include "kvstore/etcd_client.h"
#include "store/resource.h"

namespace cpp::store::etcd_codec {

// <prefix><kind>/ , or <prefix><kind>/<ns>/ when ns is given for a namespaced kind.
std::string kind_prefix(const std::string& prefix, const KindInfo& info, const std::string& ns);
// <prefix><kind>/<ns or _cluster>/<name>; "" ns means "default" for namespaced kinds.
std::string object_key(const std::string& prefix, const KindInfo& info, const std::string& ns, const std::string& name);

// (kind, ns, name) of an etcd key under <prefix><kind>/, or nullopt when the
// key does not have that shape (the reason in *why).
std::optional<ResourceKey> parse_key(const std::string& prefix, const KindInfo& info, const std::string& key,
                                     std::string* why = nullptr);

// The object stored at kv.key with resourceVersion set from kv.mod_revision,
// or nullopt (logged with the key) when the value is not a valid object for
// that key.
std::optional<std::pair<ResourceKey, json>> decode(const std::string& prefix, const KindInfo& info,
                                                   const kvstore::KeyValue& kv);

}  // namespace cpp::store::etcd_codec
