#pragma once
// Server-owned metadata (uid, creationTimestamp, generation) and name checks
// shared by every Store backend, so that all of them answer put/get alike.
#include <optional>
#include <string>

#include "store/resource.h"

namespace cpp::store {

// What is compared to decide "unchanged": the object without server-owned metadata.
json without_server_fields(json obj);

// obj with uid and creationTimestamp kept from the stored version `existing`
// (or made new), generation bumped when spec/specs changed, and
// resourceVersion removed: each backend sets its own version.
json with_server_fields(json obj, const std::optional<json>& existing);

// True when s can name a namespace or object: one non-empty path component.
bool safe_component(const std::string& s);

// The kind's info; throws std::invalid_argument naming an unknown kind.
const KindInfo& kind_or_throw(const std::string& kind);

}  // namespace cpp::store
