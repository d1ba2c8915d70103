#pragma once
#include <optional>
#include <string>

namespace cpp {
// Writes via a temporary file and rename(2), so a crash never leaves a half-written file.
void write_file_atomic(const std::string& path, const std::string& content);
std::optional<std::string> read_file(const std::string& path);
void make_dirs(const std::string& path);
}  // namespace cpp
