#pragma once
// `hubble observe` flags → observer.GetFlowsRequest, with upstream
// semantics: a direction-less filter (--pod X) matches either side, so it
// becomes two whitelist filters (source_pod X | destination_pod X); --from-*
// and --to-* narrow every filter; --not sends the next filter to the
// blacklist. Bad values throw std::invalid_argument naming the flag.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hubble_cli/time_arg.h"
#include "observer/observer.pb.h"

namespace cpp::hubble_cli {

// One filter flag as given, in command-line order: name without dashes
// ("from-pod"), and its value; {"not", ""} negates the next one.
struct FilterArg {
  std::string name;
  std::string value;
};

// The filter flags observe accepts (without "not").
const std::vector<std::string>& filter_flag_names();

struct Selector {
  std::optional<uint64_t> last, first;
  bool all = false;
  bool follow = false;
  std::string since, until;
};

// Upstream prints the last 20 flows when asked for nothing else.
inline constexpr uint64_t kDefaultFlowCount = 20;

observer::GetFlowsRequest build_request(const std::vector<FilterArg>& filters, const Selector& sel,
                                        Clock::time_point now);

}  // namespace cpp::hubble_cli
