#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace cpp::cni {

// CNI spec error codes (SPEC.md "Error"): 1-99 are reserved by the spec.
enum ErrorCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnv = 4,
  kIoFailure = 5,
  kDecodingFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kPluginNotAvailable = 50,
  // Plugin-specific codes (100+).
  kAgentFailure = 100,
  kCheckFailed = 101,
};

class CniError : public std::runtime_error {
 public:
  CniError(int code, const std::string& msg, std::string details = "")
      : std::runtime_error(msg), code_(code), details_(std::move(details)) {}
  int code() const { return code_; }
  nlohmann::json to_json(const std::string& cni_version) const {
    nlohmann::json j{{"cniVersion", cni_version}, {"code", code_}, {"msg", what()}};
    if (!details_.empty()) j["details"] = details_;
    return j;
  }

 private:
  int code_;
  std::string details_;
};

}  // namespace cpp::cni
