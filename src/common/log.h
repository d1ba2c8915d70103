#pragma once
#include <spdlog/spdlog.h>
#include <string>

namespace cpp {
// Structured-enough logging for every binary: "<time> <level> <subsys>: msg".
void init_logging(const std::string& program, bool debug);
}  // namespace cpp
