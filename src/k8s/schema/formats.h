#pragma once
// String formats the Kubernetes API server checks in CRD schemas
// (k8s.io/apiextensions-apiserver's format registry). Formats it does not
// check (int32, int64, float, double, password, ...) are not checked here
// either.
#include <string>

namespace cpp::k8s::schema {

// True when `format` is checked and `value` does not conform.
bool violates_format(const std::string& format, const std::string& value);

}  // namespace cpp::k8s::schema
