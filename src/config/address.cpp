// Loopback detection, used to allow plain HTTP only where nothing off the host can reach it.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "sigil/config/config.hpp"

namespace sigil::config {

bool is_loopback_address(std::string_view address) {
  // Host names are case-insensitive; only "localhost" is trusted, never a resolver answer.
  if (address.size() == 9 && std::equal(address.begin(), address.end(), "localhost", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      })) {
    return true;
  }
  const bool bracketed = address.size() >= 2 && address.front() == '[' && address.back() == ']';
  if (bracketed) address = address.substr(1, address.size() - 2);  // IPv6 literal as in URLs
  const std::string text(address);  // inet_pton needs a NUL-terminated string

  in_addr v4{};
  if (!bracketed && ::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;  // ::1
    // ::ffff:127.x.y.z is the IPv4 loopback seen through a dual-stack socket.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace sigil::config
