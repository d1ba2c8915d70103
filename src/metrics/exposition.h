#pragma once
// Prometheus text exposition format 0.0.4, the pieces registry.render()
// is made of (exposed for tests).
#include <string>
#include <string_view>
#include <vector>

#include "metrics/registry.h"

namespace cpp::metrics {

// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view s);
// Label value: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view s);
// Shortest text that reads back as the same double; "+Inf", "-Inf", "NaN".
std::string format_value(double v);

bool valid_metric_name(std::string_view s);
bool valid_label_name(std::string_view s);

// "# HELP", "# TYPE" and one line per sample.
void write_family(std::string& out, const FamilySnapshot& f);

}  // namespace cpp::metrics
