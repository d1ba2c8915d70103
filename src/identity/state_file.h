#pragma once
// The file both identity allocators keep their held identities in, so that a
// restarted agent gets the same ids back:
//   {"version": 1, "identities": [{"id": N, "labels": [...], "users": [...]}]}
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "identity/identity.h"

namespace cpp::identity {

// Writes records atomically to path; nothing when path is empty.
void write_state_file(const std::string& path, const std::map<NumericIdentity, IdentityRecord>& records);

// The records in path with their users sorted and unique, leaving out those
// without users (they were being released); empty when path is empty or the
// file does not exist. Throws std::runtime_error naming the file when it
// cannot be parsed or holds an id valid_id rejects.
std::vector<IdentityRecord> read_state_file(const std::string& path,
                                            const std::function<bool(NumericIdentity)>& valid_id);

}  // namespace cpp::identity
