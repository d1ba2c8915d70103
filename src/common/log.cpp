#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace cpp {
void init_logging(const std::string& program, bool debug) {
  auto logger = spdlog::stderr_color_mt(program);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ " + program + ": %v");
  logger->set_level(debug ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}
}  // namespace cpp
