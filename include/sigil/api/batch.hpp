// The batch signing API (/api/v1/batches): many documents or digests in one request, signed with
// a configured profile, one result per item; idempotent with an Idempotency-Key header; large
// batches (or "async": true) run as jobs with progress and a webhook. docs/batch-api.md.
#pragma once

#include "sigil/batch/batch.hpp"
#include "sigil/http/router.hpp"

namespace sigil::api::batch {

// Registers POST /api/v1/batches, GET /api/v1/batches/{id} and GET /api/v1/batches/{id}/items/{index}
// (authenticated). `service` must outlive the router.
void register_routes(http::Router& router, sigil::batch::BatchService& service);

}  // namespace sigil::api::batch
