// signatures/signHash and signatures/timestamp.
#include "csc.hpp"
#include "sigil/asn1/der.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/signing.hpp"
#include "sigil/tsa/tsa.hpp"

namespace sigil::api::csc::detail {
namespace {

http::Response sign_hash(CscContext& ctx, http::Request& req, Call& call) {
  // Order (§13.3): token, body, parameters, credential, SAD, HSM. Parameters are all checked
  // before the SAD is consumed, so a malformed request never spends a signature.
  const Session s = authenticate(ctx, req, call);
  const Json& body = call.body;
  call.credential_id = req_string(body, "credentialID");
  const auto a = owned_credential(ctx, s, call.credential_id);
  const auto hashes = opt_hashes(body);
  if (!hashes) fail("Missing (or invalid type) array parameter hashes");
  const SignAlgo alg = resolve_sign_algo(body);
  if (const auto mode = opt_string(body, "operationMode"); mode && *mode != "S") {
    fail("Invalid parameter operationMode");
  }
  if (!a.enabled) fail("The credential identified by credentialID is disabled");
  if (!a.credential.allows(alg.scheme, alg.hash)) fail("Invalid parameter signAlgo");
  for (const auto& h : *hashes) {
    if (h.size() != digest_size(alg.hash)) fail("Invalid digest value length");
  }
  if (!certificate_valid(ctx, a)) fail("Signing certificate is expired or not yet valid");

  std::string sad;
  if (const auto given = opt_string(body, "SAD")) {
    sad = *given;
  } else if (s.credential_scope() && !call.v1) {
    sad = s.access_token;  // the credential-scope token is the SAD (§2.4)
  } else {
    fail("Missing (or invalid type) string parameter SAD");
  }
  auth::SadUse use;
  use.user_id = s.token.user_id;
  use.client_id = s.token.client_id;
  use.token_id = s.token.id;
  use.credential_id = a.credential.id;
  use.hashes = *hashes;
  use.hash_alg = alg.hash;
  std::vector<Bytes> values;
  if (a.scal == 1 && ctx.commit_sad_with) {
    // SCAL1 (ADR 0021): sign, then spend the SAD and record sad.used and signature.create in ONE
    // commit; the signatures leave only after it. A spend refused there (another call used the
    // budget, the token was revoked…) discards them; the key was used, nothing was released.
    // SCAL2 keeps the order below: the SAD is spent before the key is used.
    const auth::SadSpend spend = ctx.authorization.prepare_sad_use(sad, use, /*signed_first=*/true);
    const signing::SigningService::RecordHook commit = [&](audit::Event signature_record) {
      ctx.commit_sad_with(spend, std::move(signature_record));
    };
    try {
      values = ctx.signing.sign_digests_authorized(s.caller, a, alg.scheme, alg.hash, *hashes, &commit);
    } catch (const auth::AuthError& e) {
      ctx.authorization.refuse_sad_use(spend, use, e);
    }
  } else {
    (void)ctx.authorization.consume_sad(sad, use);
    values = ctx.signing.sign_digests_authorized(s.caller, a, alg.scheme, alg.hash, *hashes);
  }
  call.signed_ok = true;  // recorded as signature.create by the signing service
  Json out = Json::array();
  for (const auto& v : values) out.push_back(base64_encode(v));
  return http::Response::json(200, {{"signatures", out}});
}

// A token with the client's nonce: a TimeStampReq through the built-in TSA, the token taken out of
// the TimeStampResp.
Bytes token_with_nonce(tsa::TimeStampAuthority& tsa, HashAlg alg, const Bytes& digest, const Bytes& nonce) {
  const Bytes alg_id = asn1::sequence({asn1::oid(hash_oid(alg)), asn1::null()});
  const Bytes imprint = asn1::sequence({alg_id, asn1::octet_string(digest)});
  const Bytes request = asn1::sequence(
      {asn1::integer(1), imprint, asn1::integer_from_unsigned(nonce), asn1::boolean(true)});
  const Bytes response = tsa.respond(request);
  asn1::Reader top(response);
  asn1::Reader r = top.enter(top.next(asn1::tag::kSequence, "TimeStampResp"));
  asn1::Reader status = r.enter(r.next(asn1::tag::kSequence, "PKIStatusInfo"));
  const auto code = status.next(asn1::tag::kInteger, "PKIStatus");
  if (code.value.size() != 1 || code.value[0] > 1) throw Error(Errc::tsa_unavailable, "the TSA refused the request");
  return r.next(asn1::tag::kSequence, "timeStampToken").raw_bytes();
}

http::Response timestamp(CscContext& ctx, http::Request& req, Call& call) {
  (void)authenticate(ctx, req, call);
  const Json& body = call.body;
  const Json* h = member(body, "hash");
  if (h == nullptr || !h->is_string()) fail("Missing (or invalid type) string parameter hash");
  if (h->get_ref<const std::string&>().empty()) fail("Empty hash parameter");
  Bytes digest;
  try {
    digest = base64_decode(h->get_ref<const std::string&>());
  } catch (const Error&) {
    fail("Invalid Base64 hash string parameter");
  }
  auto oid = opt_string(body, "hashAlgo");
  if (!oid) oid = opt_string(body, "hashAlgorithmOID");  // lenient: the v2 name of other methods
  if (!oid) fail("Missing (or invalid type) string parameter hashAlgo");
  const auto alg = hash_from_oid(*oid);
  if (!alg) fail("Invalid parameter hashAlgo");
  if (digest.size() != digest_size(*alg)) fail("Invalid digest value length");
  Bytes token;
  if (const auto nonce_hex = opt_string(body, "nonce")) {
    Bytes nonce;
    try {
      nonce = hex_decode(*nonce_hex);
    } catch (const Error&) {
      fail("Invalid parameter nonce");
    }
    if (nonce.empty() || nonce.size() > 32) fail("Invalid parameter nonce");
    auto* tsa = dynamic_cast<tsa::TimeStampAuthority*>(ctx.timestamper);
    if (tsa == nullptr) fail("Invalid parameter nonce: the configured time-stamp source takes no nonce");
    token = token_with_nonce(*tsa, *alg, digest, nonce);
  } else {
    token = ctx.timestamper->timestamp(*alg, digest);
  }
  return http::Response::json(200, {{"timestamp", base64_encode(token)}});
}

}  // namespace

void register_signatures(Registry& r) {
  add(r, "signatures/signHash", sign_hash, kBoth, Audit::signature);
  if (r.ctx->timestamper != nullptr) add(r, "signatures/timestamp", timestamp, kBoth, Audit::access);
}

}  // namespace sigil::api::csc::detail
