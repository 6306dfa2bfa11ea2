// The Sign Service API for portals (/api/v1/documents, /api/v1/tasks): a portal creates a
// document with its signers in order; each signer, authenticated as themselves, reads their task,
// asks for a one-time code, signs with their own credential or declines; the portal follows the
// status, downloads the result and verifies it. docs/signservice-api.md.
#pragma once

#include "sigil/http/router.hpp"
#include "sigil/signservice/workflow.hpp"

namespace sigil::api::signservice {

// Registers the routes (all authenticated). `service` must outlive the router.
void register_routes(http::Router& router, sigil::signservice::SignService& service);

}  // namespace sigil::api::signservice
