// /keys: generate, list, inspect, delete; CSRs; certificate import and demo-CA issuance.
#include "routes.hpp"
#include "sigil/common/error.hpp"

namespace sigil::api::admin::detail {
namespace {

http::Response create_key(const Context& ctx, http::Request& req) {
  const Fields f(body_object(req));
  const std::string label = f.required_string("label");
  const std::string type = f.required_string("type");
  KeySpec spec;
  try {
    spec = KeySpec::parse(type);
  } catch (const Error&) {
    throw Error(Errc::invalid_argument,
                "field 'type' must be one of rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384, ec-p521", true);
  }
  return json(201, key_to_json(ctx.svc.generate_key(label, spec)));
}

http::Response list_keys(const Context& ctx, http::Request&) {
  Json keys = Json::array();
  for (const auto& k : ctx.svc.list_keys()) keys.push_back(key_to_json(k));
  return json(200, Json{{"keys", keys}});
}

http::Response get_key(const Context& ctx, http::Request& req) {
  return json(200, key_to_json(ctx.svc.get_key(param(req, "label"))));
}

http::Response delete_key(const Context& ctx, http::Request& req) {
  ctx.svc.delete_key(param(req, "label"));
  return no_content();
}

http::Response create_csr(const Context& ctx, http::Request& req) {
  const Fields f(body_object(req));
  return json(200, Json{{"csr_pem", ctx.svc.create_csr(param(req, "label"), f.required_string("subject"))}});
}

http::Response put_certificate(const Context& ctx, http::Request& req) {
  const Fields f(body_object(req));
  const std::string cert = f.required_string("certificate_pem");
  const std::string chain = f.optional_string("chain_pem").value_or("");
  return json(200, key_to_json(ctx.svc.import_certificate(param(req, "label"), cert, chain)));
}

http::Response issue_certificate(const Context& ctx, http::Request& req) {
  const auto issue = certificate_issue_from_json(body_object(req));
  return json(200, key_to_json(ctx.svc.issue_with_demo_ca(param(req, "label"), issue, ctx.pki_dir)));
}

}  // namespace

void register_key_routes(http::Router& router, const ContextPtr& ctx) {
  add(router, ctx, "POST", "/keys", create_key, "admin.key.generate");
  add(router, ctx, "GET", "/keys", list_keys);
  add(router, ctx, "GET", "/keys/{label}", get_key);
  add(router, ctx, "DELETE", "/keys/{label}", delete_key, "admin.key.delete");
  add(router, ctx, "POST", "/keys/{label}/csr", create_csr, "admin.key.csr");
  add(router, ctx, "PUT", "/keys/{label}/certificate", put_certificate, "admin.certificate.import");
  add(router, ctx, "POST", "/keys/{label}/certificate/issue", issue_certificate, "admin.certificate.issue");
}

}  // namespace sigil::api::admin::detail
