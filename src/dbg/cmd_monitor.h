#pragma once
#include <CLI/CLI.hpp>

#include "dbg/context.h"

namespace cpp::dbg {

// `cilium-dbg monitor`: live flows from the agent's Hubble socket, printed
// as monitor lines. Kept out of cpp_dbg so only the binary links gRPC.
void add_monitor_command(CLI::App& app, Context& ctx);

}  // namespace cpp::dbg
