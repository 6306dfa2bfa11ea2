#include "routes.hpp"

#include "sigil/api/request_actor.hpp"

namespace sigil::api::dss {
namespace detail {

void add(http::Router& router, signing::SigningService& svc, const char* method, const std::string& path,
         Handler handler) {
  router.add(method, path, http::AuthRequirement::authenticated(),
             [&svc, handler](http::Request& req) { return handler(svc, req); });
}

signing::Caller caller(const http::Request& req) { return signing::Caller::of(api::actor_of(req), "dss"); }

}  // namespace detail

void register_routes(http::Router& router, signing::SigningService& service, std::vector<signing::Profile> profiles,
                     signing::AppearanceTemplates appearances) {
  detail::register_server_signing(router, service);
  detail::register_one_document(router, service);
  detail::register_multiple_documents(router, service);
  detail::register_raw_sign(router, service, std::move(profiles), std::move(appearances));
}

}  // namespace sigil::api::dss
