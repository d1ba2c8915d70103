#pragma once
// The message a throwing call gives, for tests that check what the user reads.
#include <exception>
#include <functional>
#include <string>

inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}
