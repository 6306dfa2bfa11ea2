// DSS JSON conventions (Jackson defaults of the EC DSS webservices): byte[] as padded base64,
// enums as Java constant names (SHA256, RSA_SHA256, ECDSA_SHA256, PLAIN_ECDSA_SHA256, ...),
// dates as epoch milliseconds. Internal to sigil_api_dss.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sigil/common/crypto_types.hpp"
#include "sigil/http/message.hpp"
#include "sigil/signing/service.hpp"

namespace sigil::api::dss {

using Json = nlohmann::json;

// DigestAlgorithm enum <-> HashAlg. Unsupported names (SHA1, SHA3_*, ...) throw
// Error(invalid_argument, public) "Unsupported digest algorithm : X".
HashAlg parse_digest_algorithm(std::string_view name);
std::string_view digest_algorithm_name(HashAlg hash);  // "SHA256"

// SignatureAlgorithm enum: RSA_SHA256, RSA_SSA_PSS_SHA256_MGF1, ECDSA_SHA256, PLAIN_ECDSA_SHA256.
struct SignatureAlgorithm {
  SignatureScheme scheme = SignatureScheme::rsa_pkcs1;
  HashAlg hash = HashAlg::sha256;
  bool plain_ecdsa = false;  // r||s instead of DER
};
SignatureAlgorithm parse_signature_algorithm(std::string_view name);
std::string signature_algorithm_name(const SignatureAlgorithm& alg);

// The DSS EncryptionAlgorithm of a key ("RSA", "ECDSA").
std::string_view encryption_algorithm_name(KeyType type);

// Member access with DSS-like public messages ("<name> must be defined!").
const Json& member(const Json& object, std::string_view name);          // required, non-null
const Json* optional_member(const Json& object, std::string_view name);  // nullptr when absent or null
std::string string_member(const Json& object, std::string_view name);
Bytes base64_member(const Json& object, std::string_view name);

// RemoteKeyEntry for a credential: alias, encryptionAlgo, certificate, certificateChain.
Json key_entry(const signing::ResolvedCredential& credential);
// {"encodedCertificate": base64(der)}
Json remote_certificate(const Bytes& der);
// SignatureValueDTO
Json signature_value(const SignatureAlgorithm& alg, const Bytes& value);

// The body of a POST as a JSON object (bounded parse); anything else is a public 400.
Json body_object(const http::Request& req);

}  // namespace sigil::api::dss
