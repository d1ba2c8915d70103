#pragma once
// Turns a datapath event (struct cpp_event, decoded by
// datapath::EventReader) into a Flow. Pure: everything it does not find in
// the event it asks the Enricher.
#include <cstdint>

#include "datapath/event_reader.h"
#include "hubble/enricher.h"
#include "hubble/flow.h"

namespace cpp::hubble {

class EventParser {
 public:
  // boot_offset_ns: wall clock minus CLOCK_MONOTONIC, to turn the event's
  // bpf_ktime_get_ns() stamp into a UNIX time.
  EventParser(const Enricher& enricher, int64_t boot_offset_ns);

  // Verdict mapping: drops → DROPPED (drop_reason set), policy verdicts →
  // FORWARDED / DROPPED / AUDIT, traces → FORWARDED. Direction: the event's
  // CPP_DIR_* (ingress/egress of the endpoint it names: ep_id is the source
  // of egress, the destination of ingress events). Policy verdicts fill
  // *_allowed_by / *_denied_by from the cookie (denied_by for DENIED, and for
  // AUDIT of a deny rule), policy drops (133, 181) fill *_denied_by.
  // is_reply: traces and drops from CPP_EVENT_F_REPLY, false for policy
  // verdicts and policy drops, unknown for other drops of non-reply packets.
  // destination_service from orig_daddr/orig_dport with CPP_EVENT_F_XLATED.
  // Trace-sock events, as upstream's sock parser: Type SOCK, event type 7
  // with the translation point as sub-type, TRACED before and TRANSLATED
  // after a translation; the source is the client endpoint (found by the
  // event's netns cookie, port 0: the socket's own port is not known yet),
  // the destination the address at that point; reverse points swap the two
  // (the answer travels from the service to the client). The service names
  // the frontend: destination_service forward, source_service reverse.
  Flow parse(const datapath::Event& ev) const;

  static int64_t current_boot_offset_ns();

 private:
  void parse_sock(const datapath::Event& ev, Flow& f) const;

  const Enricher& enricher_;
  int64_t boot_offset_ns_;
};

}  // namespace cpp::hubble
