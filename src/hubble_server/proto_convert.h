#pragma once
// hubble::Flow → upstream's flow.Flow message, with upstream's field
// semantics: IP strings, the Layer4 oneof, endpoints with "source:key=value"
// labels, Type L3_L4, drop_reason in both the deprecated number and the
// enum, is_reply as a BoolValue only when known, and the deprecated Summary.
#include <cstdint>

#include "flow/flow.pb.h"
#include "hubble/flow.h"

namespace google::protobuf {
class Timestamp;
}

namespace cpp::hubble {

flow::Flow to_proto(const Flow& f);

void to_timestamp(int64_t unix_ns, google::protobuf::Timestamp* out);
int64_t from_timestamp(const google::protobuf::Timestamp& ts);

}  // namespace cpp::hubble
