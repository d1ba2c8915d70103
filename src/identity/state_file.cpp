#include "identity/state_file.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/files.h"

namespace cpp::identity {

void write_state_file(const std::string& path, const std::map<NumericIdentity, IdentityRecord>& records) {
  if (path.empty()) return;
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& [id, rec] : records)
    ids.push_back({{"id", id}, {"labels", rec.labels.to_json()}, {"users", rec.users}});
  write_file_atomic(path, nlohmann::json{{"version", 1}, {"identities", ids}}.dump(1) + "\n");
}

std::vector<IdentityRecord> read_state_file(const std::string& path,
                                            const std::function<bool(NumericIdentity)>& valid_id) {
  if (path.empty()) return {};
  auto text = read_file(path);
  if (!text) return {};
  std::vector<IdentityRecord> out;
  try {
    auto doc = nlohmann::json::parse(*text);
    if (!doc.is_object() || doc.value("version", 0) != 1) throw std::invalid_argument("unsupported version");
    for (const auto& e : doc.at("identities")) {
      IdentityRecord rec;
      rec.id = e.at("id").get<NumericIdentity>();
      rec.labels = labels::LabelSet::from_json(e.at("labels"));
      rec.users = e.value("users", std::vector<std::string>{});
      std::sort(rec.users.begin(), rec.users.end());
      rec.users.erase(std::unique(rec.users.begin(), rec.users.end()), rec.users.end());
      if (rec.labels.empty() || !valid_id(rec.id)) throw std::invalid_argument("bad identity " + std::to_string(rec.id));
      if (!rec.users.empty()) out.push_back(std::move(rec));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("identity state " + path + ": " + e.what());
  }
  return out;
}

}  // namespace cpp::identity
