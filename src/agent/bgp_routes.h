#pragma once
#include <optional>

#include "agent/bgp_subsystem.h"
#include "api/unix_http.h"

namespace cpp::agent {

// /v1/bgp/peers, /v1/bgp/routes?table=advertised|available (upstream's
// paths) and /v1/bgp/policies (which CiliumBGPPeeringPolicy applies here and
// why not); nullopt for other paths. `bgp` is null when the BGP control
// plane is off: the paths then answer 501.
std::optional<api::HttpResponse> handle_bgp_routes(const BgpSubsystem* bgp, const api::HttpRequest& req);

}  // namespace cpp::agent
