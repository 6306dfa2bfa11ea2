// TLS server context and client-certificate extraction (OpenSSL via Boost.Asio ssl).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>

#include "sigil/config/config.hpp"
#include "sigil/http/message.hpp"

namespace sigil::http::detail {

// TLS 1.2+ (1.3 if min_version == "1.3"), no compression, no renegotiation, AEAD-only TLS 1.2
// suites, server cipher preference; mTLS per tls.client_certs. Throws Error(config_invalid)
// naming the file that could not be loaded.
std::unique_ptr<boost::asio::ssl::context> make_server_context(const config::TlsConfig& tls);

// The peer certificate when one was presented *and* verified; nullopt otherwise. noexcept: it
// runs inside asio completion handlers.
std::optional<ClientCertInfo> verified_client_cert(SSL* ssl) noexcept;

}  // namespace sigil::http::detail
