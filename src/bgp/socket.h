#pragma once
// The kernel side of a BGP session: non-blocking TCP sockets with TCP MD5
// signatures (RFC 2385), the IP TTL for eBGP multihop, and a listener.
// Thin wrappers; every failure is a std::system_error naming the call.
#include <cstdint>
#include <optional>
#include <string>

#include "common/ip.h"

namespace cpp::bgp {

// A non-blocking socket connecting to peer:port (connect in progress on
// return). MD5 key and TTL are set before the SYN leaves.
int start_connect(const IpAddr& peer, uint16_t port, const std::optional<IpAddr>& local, const std::string& md5,
                  uint8_t ttl);

// 0 once a non-blocking connect succeeded, else the errno it failed with.
int connect_result(int fd);

// Installs (or, with an empty key, removes) the TCP MD5 key for peer on fd.
void set_md5(int fd, const IpAddr& peer, const std::string& key);

void set_ttl(int fd, bool v6, uint8_t ttl);

// A non-blocking dual-stack listener on [::]:port (0: any port).
int listen_on(int port);
uint16_t bound_port(int fd);

// The socket's local / remote address (IPv4-mapped IPv6 turned into IPv4).
std::optional<IpAddr> local_address(int fd);
std::optional<IpAddr> remote_address(int fd);

}  // namespace cpp::bgp
