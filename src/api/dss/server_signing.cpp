// /services/rest/server-signing: the HSM facade of DSS (RestSignatureTokenConnection): list the
// caller's unattended credentials as key entries and sign data or digests with them.
#include "routes.hpp"

#include "ossl/digest.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::api::dss::detail {
namespace {

constexpr const char* kPrefix = "/services/rest/server-signing";

http::Response keys(signing::SigningService& svc, http::Request& req) {
  Json out = Json::array();
  for (const auto& c : svc.service_credentials(caller(req))) out.push_back(key_entry(c));
  return http::Response::json(200, out);
}

http::Response key(signing::SigningService& svc, http::Request& req) {
  return http::Response::json(200, key_entry(svc.service_credential(caller(req), req.path_params.at("alias"))));
}

// The scheme of a key when the caller names only the digest algorithm (DSS: the key's default).
SignatureAlgorithm default_algorithm(signing::SigningService& svc, const http::Request& req, HashAlg hash) {
  const auto c = svc.service_credential(caller(req), req.path_params.at("alias"));
  return SignatureAlgorithm{c.default_scheme(), hash, false};
}

http::Response sign_value(signing::SigningService& svc, http::Request& req, const SignatureAlgorithm& alg,
                          const Bytes& digest) {
  const Bytes value =
      svc.sign_digest(caller(req), req.path_params.at("alias"), alg.scheme, alg.hash, digest, alg.plain_ecdsa);
  return http::Response::json(200, signature_value(alg, value));
}

// ToBeSignedDTO {bytes}: hash the bytes, then sign the digest.
http::Response sign(signing::SigningService& svc, http::Request& req) {
  const Bytes tbs = base64_member(body_object(req), "bytes");
  const auto alg = default_algorithm(svc, req, parse_digest_algorithm(req.path_params.at("digestAlgorithm")));
  return sign_value(svc, req, alg, ossl::digest(alg.hash, tbs));
}

http::Response sign_with_algo(signing::SigningService& svc, http::Request& req) {
  const auto alg = parse_signature_algorithm(req.path_params.at("signatureAlgorithm"));
  const Bytes tbs = base64_member(body_object(req), "bytes");
  return sign_value(svc, req, alg, ossl::digest(alg.hash, tbs));
}

// DigestDTO {algorithm, value}.
http::Response sign_digest(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  const auto alg = default_algorithm(svc, req, parse_digest_algorithm(string_member(body, "algorithm")));
  return sign_value(svc, req, alg, base64_member(body, "value"));
}

http::Response sign_digest_with_algo(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  const auto alg = parse_signature_algorithm(req.path_params.at("signatureAlgorithm"));
  if (parse_digest_algorithm(string_member(body, "algorithm")) != alg.hash) {
    throw Error(Errc::invalid_argument, "the digest algorithm does not match the signature algorithm", true);
  }
  return sign_value(svc, req, alg, base64_member(body, "value"));
}

}  // namespace

void register_server_signing(http::Router& router, signing::SigningService& svc) {
  add(router, svc, "GET", std::string(kPrefix) + "/keys", keys);
  add(router, svc, "GET", std::string(kPrefix) + "/key/{alias}", key);
  add(router, svc, "POST", std::string(kPrefix) + "/sign/{alias}/{digestAlgorithm}", sign);
  add(router, svc, "POST", std::string(kPrefix) + "/sign-with-signature-algo/{alias}/{signatureAlgorithm}",
      sign_with_algo);
  add(router, svc, "POST", std::string(kPrefix) + "/sign-digest/{alias}", sign_digest);
  add(router, svc, "POST", std::string(kPrefix) + "/sign-digest-with-signature-algo/{alias}/{signatureAlgorithm}",
      sign_digest_with_algo);
}

}  // namespace sigil::api::dss::detail
