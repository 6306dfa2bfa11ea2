#include "dto.hpp"

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::api::dss {
namespace {

[[noreturn]] void bad(std::string message) { throw Error(Errc::invalid_argument, std::move(message), true); }

struct HashName {
  HashAlg hash;
  std::string_view name;
};
constexpr HashName kHashes[] = {
    {HashAlg::sha256, "SHA256"}, {HashAlg::sha384, "SHA384"}, {HashAlg::sha512, "SHA512"}};

}  // namespace

HashAlg parse_digest_algorithm(std::string_view name) {
  for (const auto& h : kHashes) {
    if (h.name == name) return h.hash;
  }
  bad("Unsupported digest algorithm : " + std::string(name) + " (SHA256, SHA384 or SHA512)");
}

std::string_view digest_algorithm_name(HashAlg hash) {
  for (const auto& h : kHashes) {
    if (h.hash == hash) return h.name;
  }
  return "SHA256";
}

SignatureAlgorithm parse_signature_algorithm(std::string_view name) {
  SignatureAlgorithm alg;
  std::string_view rest;
  auto starts = [&](std::string_view prefix) {
    if (name.substr(0, prefix.size()) != prefix) return false;
    rest = name.substr(prefix.size());
    return true;
  };
  if (starts("RSA_SSA_PSS_")) {
    alg.scheme = SignatureScheme::rsa_pss;
    if (rest.size() < 5 || rest.substr(rest.size() - 5) != "_MGF1") bad("Unsupported signature algorithm : " + std::string(name));
    rest = rest.substr(0, rest.size() - 5);
  } else if (starts("RSA_")) {
    alg.scheme = SignatureScheme::rsa_pkcs1;
  } else if (starts("PLAIN_ECDSA_")) {
    alg.scheme = SignatureScheme::ecdsa;
    alg.plain_ecdsa = true;
  } else if (starts("ECDSA_")) {
    alg.scheme = SignatureScheme::ecdsa;
  } else {
    bad("Unsupported signature algorithm : " + std::string(name));
  }
  for (const auto& h : kHashes) {
    if (h.name == rest) {
      alg.hash = h.hash;
      return alg;
    }
  }
  bad("Unsupported signature algorithm : " + std::string(name));
}

std::string signature_algorithm_name(const SignatureAlgorithm& alg) {
  const std::string hash(digest_algorithm_name(alg.hash));
  switch (alg.scheme) {
    case SignatureScheme::rsa_pkcs1: return "RSA_" + hash;
    case SignatureScheme::rsa_pss: return "RSA_SSA_PSS_" + hash + "_MGF1";
    case SignatureScheme::ecdsa: return (alg.plain_ecdsa ? "PLAIN_ECDSA_" : "ECDSA_") + hash;
  }
  return "RSA_" + hash;
}

std::string_view encryption_algorithm_name(KeyType type) { return type == KeyType::ec ? "ECDSA" : "RSA"; }

const Json* optional_member(const Json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json& member(const Json& object, std::string_view name) {
  const Json* v = optional_member(object, name);
  if (v == nullptr) bad(std::string(name) + " must be defined!");
  return *v;
}

std::string string_member(const Json& object, std::string_view name) {
  const Json& v = member(object, name);
  if (!v.is_string()) bad(std::string(name) + " must be a string");
  return v.get<std::string>();
}

Bytes base64_member(const Json& object, std::string_view name) {
  const auto text = string_member(object, name);
  try {
    return base64_decode(text);
  } catch (const Error&) {
    bad(std::string(name) + " is not valid base64");
  }
}

Json remote_certificate(const Bytes& der) { return Json{{"encodedCertificate", base64_encode(der)}}; }

Json key_entry(const signing::ResolvedCredential& credential) {
  Json chain = Json::array();
  chain.push_back(remote_certificate(credential.certs.leaf));
  for (const auto& c : credential.certs.issuers) chain.push_back(remote_certificate(c));
  return Json{{"alias", credential.id},
              {"encryptionAlgo", encryption_algorithm_name(credential.key_spec.type)},
              {"certificate", remote_certificate(credential.certs.leaf)},
              {"certificateChain", chain}};
}

Json signature_value(const SignatureAlgorithm& alg, const Bytes& value) {
  return Json{{"algorithm", signature_algorithm_name(alg)}, {"value", base64_encode(value)}};
}

Json body_object(const http::Request& req) {
  Json body = req.json_body();
  if (!body.is_object()) bad("request body must be a JSON object");
  return body;
}

}  // namespace sigil::api::dss
