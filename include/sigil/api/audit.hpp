// The audit API (/api/admin/v1/audit/...): list, show, export and verify the audit trail. Every
// route requires the `auditor` role (separation of duties: administrators are what the trail
// watches) and runs on the worker pool. Contract: schemas/admin.openapi.yaml, docs/admin-api.md.
#pragma once

#include <nlohmann/json.hpp>

#include "sigil/audit/events.hpp"
#include "sigil/audit/record.hpp"
#include "sigil/audit/verify.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/http/router.hpp"
#include "sigil/store/database.hpp"

namespace sigil::api::audit_api {

// `db` holds the trail; `sink` records exports and verification runs (fail closed);
// `audit_public_key_spki` is the audit key's public key (DER SPKI) the checkpoints verify with.
// db and sink must outlive the router.
void register_routes(http::Router& router, store::Database& db, audit::Sink& sink, Bytes audit_public_key_spki);

// {seq, time, type, principal, client_address, request_id, outcome, details, prev_hash, hash}
nlohmann::json record_to_json(const audit::Record& r);
// {ok, problem, position, message, records, checkpoints, last_checkpointed_seq}
nlohmann::json report_to_json(const audit::VerifyReport& r);

}  // namespace sigil::api::audit_api
