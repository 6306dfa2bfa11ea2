// Shared plumbing of the DSS-style route groups (internal to sigil_api_dss).
#pragma once

#include <string>

#include "dto.hpp"
#include "sigil/api/dss.hpp"
#include "sigil/http/router.hpp"
#include "sigil/signing/profiles.hpp"
#include "sigil/signing/service.hpp"

namespace sigil::api::dss::detail {

using Handler = http::Response (*)(signing::SigningService&, http::Request&);

// Registers an authenticated route on the worker pool.
void add(http::Router& router, signing::SigningService& svc, const char* method, const std::string& path,
         Handler handler);

// The caller as the signing service sees it (principal + client address).
signing::Caller caller(const http::Request& req);

void register_server_signing(http::Router& router, signing::SigningService& svc);
void register_one_document(http::Router& router, signing::SigningService& svc);
void register_multiple_documents(http::Router& router, signing::SigningService& svc);
void register_raw_sign(http::Router& router, signing::SigningService& svc, std::vector<signing::Profile> profiles,
                       signing::AppearanceTemplates appearances);

// extendDocument of both signature services: {toExtendDocument, signatureProfile |
// parameters.signatureLevel, parameters.detachedContents[]} -> RemoteDocument.
http::Response extend_document(signing::SigningService& svc, http::Request& req);

// The most documents one multiple-documents request (or detachedContents) may carry.
inline constexpr std::size_t kMaxDocuments = 100;

}  // namespace sigil::api::dss::detail
