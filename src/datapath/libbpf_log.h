#pragma once

namespace cpp::datapath {
// Routes libbpf's messages (including verifier logs on load failure) to
// spdlog: warnings as warnings, the rest at debug/trace. Idempotent.
void route_libbpf_logs();
}  // namespace cpp::datapath
