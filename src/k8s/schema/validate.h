#pragma once
// Validation of a JSON value against a structural schema, with the error
// texts kube-apiserver gives for custom resources, e.g.
//   spec.virtualRouters[0].localASN: Invalid value: "string":
//     spec.virtualRouters[0].localASN in body must be of type integer: "string"
//   spec.virtualRouters[0].neighbors: Required value
// (one line each). Every error is reported, not only the first.
#include "k8s/schema/schema.h"

#include <string>
#include <vector>

namespace cpp::k8s::schema {

// Errors of `value` against `s`; `path` is the value's field path ("" = the
// object root). As the API server does before validating, an object field
// holding null whose schema is not nullable counts as absent.
std::vector<std::string> validate_value(const Schema& s, const json& value, const std::string& path = "");

// Fields of `value` the schema does not declare, as strict field validation
// reports them (`unknown field "spec.foo"`), walking properties, items and
// additionalProperties (never oneOf/anyOf branches, which cannot declare
// fields). `is_resource`: value is a whole object, so apiVersion, kind and
// metadata are implicit and metadata's keys are those of ObjectMeta (the
// same holds inside x-kubernetes-embedded-resource). With `remove`, the
// unknown fields are also deleted, as the API server prunes them.
std::vector<std::string> unknown_fields(const Schema& s, json& value, bool remove, bool is_resource = true,
                                        const std::string& path = "");

// What the API server does to a decoded object before validating it:
// fields declared with a default get it when absent or null, and nulls in
// non-nullable fields without a default are dropped. Walks the structural
// part, as pruning does.
void apply_defaults(const Schema& s, json& value);

}  // namespace cpp::k8s::schema
