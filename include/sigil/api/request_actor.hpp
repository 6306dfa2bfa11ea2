// Who acts in an HTTP request, for the audit trail: the authenticated principal (or the ids a
// handler names), the client address and the request id. Shared by the API front-ends.
#pragma once

#include <string>

#include "sigil/audit/events.hpp"
#include "sigil/http/message.hpp"

namespace sigil::api {

// The principal the router authenticated (empty id and name when there is none).
inline audit::Actor actor_of(const http::Request& req) {
  audit::Actor a;
  if (req.principal) {
    a.id = req.principal->id;
    a.name = req.principal->name;
  }
  a.address = req.remote_address;
  a.request_id = req.request_id;
  return a;
}

// A party the handler identified itself (a user behind a login form, an OAuth client).
inline audit::Actor actor_of(const http::Request& req, std::string id, std::string name) {
  return audit::Actor{std::move(id), std::move(name), req.remote_address, req.request_id};
}

}  // namespace sigil::api
