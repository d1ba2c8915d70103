#pragma once
#include <string>

namespace cpp::datapath {

inline constexpr const char* kBpffsRoot = "/sys/fs/bpf";

// True if path lives on a BPF filesystem.
bool is_bpffs(const std::string& path);

// Mounts bpffs on `mountpoint` unless one is mounted there already, as the
// upstream agent does at start-up: pinned maps need it. Throws on failure.
void ensure_bpffs(const std::string& mountpoint = kBpffsRoot);

}  // namespace cpp::datapath
