#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/address_v4.hpp>

#include "sigil/http/server.hpp"

namespace sigil::http {

// Our own check (not config::is_loopback_address): http must not depend on sigil_config's .cpp.
bool is_loopback_address(std::string_view address) {
  if (address == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return false;
  if (addr.is_v4()) return addr.to_v4().to_bytes()[0] == 127;
  const auto v6 = addr.to_v6();
  if (v6.is_loopback()) return true;
  return v6.is_v4_mapped() && boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_bytes()[0] == 127;
}

}  // namespace sigil::http
