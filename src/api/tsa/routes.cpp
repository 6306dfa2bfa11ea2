#include "sigil/api/tsa.hpp"

#include "sigil/common/error.hpp"
#include "sigil/tsa/tsa.hpp"

namespace sigil::api::tsa {
namespace {

// A TimeStampReq is a few hundred bytes; anything much larger is not one.
constexpr std::size_t kMaxRequest = 64 * 1024;

}  // namespace

void register_routes(http::Router& router, sigil::tsa::TimeStampAuthority& authority, bool require_auth) {
  auto handler = [&authority](http::Request& req) {
    const auto type = req.header("Content-Type");
    if (!type || type->substr(0, type->find(';')) != "application/timestamp-query") {
      throw Error(Errc::unsupported_media_type, "Content-Type must be application/timestamp-query", true);
    }
    if (!req.body_file.empty() || req.body.size() > kMaxRequest) {
      throw Error(Errc::payload_too_large, "a time-stamp request is at most 64 KiB", true);
    }
    const Bytes request(req.body.begin(), req.body.end());
    const Bytes reply = authority.respond(request);
    return http::Response::text(200, std::string(reply.begin(), reply.end()), "application/timestamp-reply");
  };
  router.add("POST", "/tsa",
             require_auth ? http::AuthRequirement::authenticated() : http::AuthRequirement::none(), handler);
}

}  // namespace sigil::api::tsa
