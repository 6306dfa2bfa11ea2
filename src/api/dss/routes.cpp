#include "routes.hpp"

namespace sigil::api::dss {
namespace detail {

void add(http::Router& router, signing::SigningService& svc, const char* method, const std::string& path,
         Handler handler) {
  router.add(method, path, http::AuthRequirement::authenticated(),
             [&svc, handler](http::Request& req) { return handler(svc, req); });
}

signing::Caller caller(const http::Request& req) {
  signing::Caller c;
  if (req.principal) {
    c.user_id = req.principal->id;
    c.username = req.principal->name;
  }
  c.address = req.remote_address;
  c.request_id = req.request_id;
  c.api = "dss";
  return c;
}

}  // namespace detail

void register_routes(http::Router& router, signing::SigningService& service, std::vector<signing::Profile> profiles) {
  detail::register_server_signing(router, service);
  detail::register_one_document(router, service);
  detail::register_multiple_documents(router, service);
  detail::register_raw_sign(router, service, std::move(profiles));
}

}  // namespace sigil::api::dss
