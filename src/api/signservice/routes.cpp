// /api/v1/documents and /api/v1/tasks: JSON in and out (the document as base64 on creation), the
// document and detached signatures as raw bytes on download.
#include "sigil/api/signservice.hpp"

#include "sigil/api/request_actor.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/http/json.hpp"

namespace sigil::api::signservice {
namespace {

using nlohmann::json;
using sigil::signservice::DocumentState;
using sigil::signservice::DocumentStatus;
using sigil::signservice::SignerStatus;
using sigil::signservice::SignService;
using sigil::signservice::TaskState;
using sigil::signservice::TaskView;
using sigil::signservice::Verification;

[[noreturn]] void bad(const std::string& message) { throw Error(Errc::invalid_argument, message, true); }

json body_of(const http::Request& req) {
  const std::string body = req.body_file.empty() ? req.body : files::read(req.body_file);
  if (body.empty()) return json::object();
  json j = http::parse_json_bounded(body, req.max_json_depth);
  if (!j.is_object()) bad("the request body must be a JSON object");
  return j;
}

const std::string& user_of(const http::Request& req) {
  static const std::string none;
  return req.principal ? req.principal->id : none;
}

signing::Caller caller_of(const http::Request& req) { return signing::Caller::of(api::actor_of(req), "signservice"); }

std::string time_of(std::int64_t unix_seconds) {
  return to_rfc3339(Clock::time_point{std::chrono::seconds{unix_seconds}});
}

// `own`: the viewer is the document's owner or this signer, who see the task id and the credential.
json signer_json(const SignerStatus& s, bool own) {
  json o{{"position", s.position},
         {"step", s.step},
         {"username", s.username},
         {"state", std::string(to_string(s.state))}};
  if (own) o["taskId"] = s.task_id;
  if (s.state == TaskState::signed_ok) {
    o["signedAt"] = time_of(s.signed_at.value_or(0));
    if (own) o["credentialID"] = s.credential_id;
    o["inputSha256"] = s.input_sha256;
    o["outputSha256"] = s.output_sha256;
    o["certificateSubject"] = s.certificate_subject;
    o["certificateSha256"] = s.certificate_sha256;
    o["level"] = s.level;
  }
  if (s.state == TaskState::declined) {
    o["declinedAt"] = time_of(s.signed_at.value_or(0));
    if (!s.reason.empty()) o["reason"] = s.reason;
  }
  return o;
}

// The owner sees every task id (to hand out links); a signer sees only their own.
json document_json(const DocumentStatus& d, const std::string& viewer) {
  json signers = json::array();
  for (const auto& s : d.signers) signers.push_back(signer_json(s, d.owner_id == viewer || s.user_id == viewer));
  json o{{"id", d.id},
         {"name", d.name},
         {"owner", d.owner_name},
         {"profile", d.profile},
         {"state", std::string(to_string(d.state))},
         {"signatures", d.detached ? "detached" : "embedded"},
         {"version", d.version},
         {"originalSha256", d.original_sha256},
         {"currentSha256", d.current_sha256},
         {"createdAt", time_of(d.created_at)},
         {"signers", std::move(signers)},
         {"href", "/api/v1/documents/" + d.id},
         {"contentHref", "/api/v1/documents/" + d.id + "/content"}};
  if (d.finished_at) o["finishedAt"] = time_of(*d.finished_at);
  return o;
}

json task_json(const TaskView& t, const std::string& viewer) {
  json o = signer_json(t.task, true);
  o["id"] = t.task.task_id;
  o["href"] = "/api/v1/tasks/" + t.task.task_id;
  o["contentHref"] = "/api/v1/tasks/" + t.task.task_id + "/content";
  o["document"] = document_json(t.document, viewer);
  return o;
}

std::string content_type(const std::string& file) {
  if (file.ends_with(".pdf")) return "application/pdf";
  if (file.ends_with(".p7s")) return "application/pkcs7-signature";
  if (file.ends_with(".p7m")) return "application/pkcs7-mime";
  return "application/octet-stream";
}

http::Response file_response(const std::filesystem::path& path, const std::string& download_name) {
  auto res = http::Response::file(200, path, content_type(path.filename().string()), false);
  res.set_header("Content-Disposition", "attachment; filename=\"" + download_name + "\"");
  return res;
}

std::string download_name(const DocumentStatus& d, const std::filesystem::path& file) {
  const std::string ext = file.extension().string();
  if (d.name.ends_with(ext) || ext == ".bin") return d.name;
  return d.name + ext;
}

std::size_t limit_of(const http::Request& req) {
  std::size_t limit = 100;
  if (const auto l = req.query_param("limit")) {
    try {
      limit = std::stoul(std::string(*l));
    } catch (const std::exception&) {
      limit = 0;
    }
    if (limit < 1 || limit > 1000) bad("limit: 1 to 1000");
  }
  return limit;
}

sigil::signservice::NewDocument parse_new(const http::Request& req, const json& j) {
  sigil::signservice::NewDocument n;
  n.caller = caller_of(req);
  n.name = http::string_field(j, "name", true);
  n.profile = http::string_field(j, "profile", true);
  const auto content = j.find("content");
  if (content == j.end() || !content->is_string()) bad("content (the document, base64) is required");
  try {
    n.content = base64_decode(content->get_ref<const std::string&>());
  } catch (const Error&) {
    bad("content is not valid base64");
  }
  const auto signers = j.find("signers");
  if (signers == j.end() || !signers->is_array()) bad("signers must be an array of usernames");
  for (std::size_t i = 0; i < signers->size(); ++i) {
    const json& s = (*signers)[i];
    const std::string where = "signers[" + std::to_string(i) + "]";
    if (s.is_string()) {
      n.signers.push_back({s.get<std::string>(), 0});
    } else if (s.is_object()) {
      sigil::signservice::NewSigner signer{http::string_field(s, "username", true), 0};
      if (const auto step = s.find("step"); step != s.end() && !step->is_null()) {
        if (!step->is_number_integer() || step->get<std::int64_t>() < 1 || step->get<std::int64_t>() > 1000) {
          bad(where + ".step must be a whole number from 1");
        }
        signer.step = static_cast<int>(step->get<std::int64_t>());
      }
      n.signers.push_back(std::move(signer));
    } else {
      bad(where + " must be a username or {\"username\": ..., \"step\": n}");
    }
  }
  if (const auto w = http::string_field(j, "webhook", false); !w.empty()) n.webhook = w;
  return n;
}

json verification_json(const Verification& v, const std::string& viewer) {
  json sigs = json::array();
  for (const auto& e : v.signatures) {
    json o{{"position", e.position},
           {"username", e.username},
           {"certificateSubject", e.certificate_subject},
           {"level", e.level},
           {"signedAt", time_of(e.signed_at)},
           {"inputSha256", e.input_sha256},
           {"outputSha256", e.output_sha256},
           {"fileIntact", e.file_intact},
           {"signatureValid", e.signature_valid}};
    if (!e.detail.empty()) o["detail"] = e.detail;
    sigs.push_back(std::move(o));
  }
  return {{"valid", v.valid},
          {"complete", v.document.state == DocumentState::completed},
          {"currentIntact", v.current_intact},
          {"signatures", std::move(sigs)},
          {"document", document_json(v.document, viewer)}};
}

}  // namespace

void register_routes(http::Router& router, SignService& service) {
  const auto authed = http::AuthRequirement::authenticated();
  // Documents are created by portals: service users (a person signs their tasks, and may read and
  // verify what they were asked to sign).
  router.add("POST", "/api/v1/documents", http::AuthRequirement::role_required("service"), [&service](http::Request& req) {
    const auto d = service.create(parse_new(req, body_of(req)));
    auto res = http::Response::json(201, document_json(d, user_of(req)));
    res.set_header("Location", "/api/v1/documents/" + d.id);
    return res;
  });
  router.add("GET", "/api/v1/documents", authed, [&service](http::Request& req) {
    json list = json::array();
    for (const auto& d : service.list(user_of(req), limit_of(req))) list.push_back(document_json(d, user_of(req)));
    return http::Response::json(200, {{"documents", std::move(list)}});
  });
  router.add("GET", "/api/v1/documents/{id}", authed, [&service](http::Request& req) {
    return http::Response::json(200, document_json(service.status(user_of(req), req.path_params.at("id")), user_of(req)));
  });
  router.add("DELETE", "/api/v1/documents/{id}", authed, [&service](http::Request& req) {
    service.remove(caller_of(req), req.path_params.at("id"));
    return http::Response::text(204, "");
  });
  router.add("GET", "/api/v1/documents/{id}/content", authed, [&service](http::Request& req) {
    const auto& id = req.path_params.at("id");
    const auto d = service.status(user_of(req), id);
    const auto path = service.content(user_of(req), id);
    return file_response(path, download_name(d, path));
  });
  router.add("GET", "/api/v1/documents/{id}/signatures/{position}", authed, [&service](http::Request& req) {
    const auto& id = req.path_params.at("id");
    int position = 0;
    try {
      position = std::stoi(req.path_params.at("position"));
    } catch (const std::exception&) {
      throw Error(Errc::not_found, "no signer '" + req.path_params.at("position") + "'", true);
    }
    const auto d = service.status(user_of(req), id);
    const auto path = service.signature_file(user_of(req), id, position);
    return file_response(path, d.name + "." + std::to_string(position) + path.extension().string());
  });
  router.add("POST", "/api/v1/documents/{id}/cancel", authed, [&service](http::Request& req) {
    return http::Response::json(200, document_json(service.cancel(caller_of(req), req.path_params.at("id")), user_of(req)));
  });
  router.add("GET", "/api/v1/documents/{id}/verification", authed, [&service](http::Request& req) {
    return http::Response::json(200, verification_json(service.verify(user_of(req), req.path_params.at("id")), user_of(req)));
  });

  router.add("GET", "/api/v1/tasks", authed, [&service](http::Request& req) {
    const auto state = req.query_param("state").value_or("ready");
    if (state != "ready" && state != "all") bad("state: ready or all");
    json list = json::array();
    for (const auto& t : service.tasks(user_of(req), state == "ready")) list.push_back(task_json(t, user_of(req)));
    return http::Response::json(200, {{"tasks", std::move(list)}});
  });
  router.add("GET", "/api/v1/tasks/{task}", authed, [&service](http::Request& req) {
    return http::Response::json(200, task_json(service.task(user_of(req), req.path_params.at("task")), user_of(req)));
  });
  router.add("GET", "/api/v1/tasks/{task}/content", authed, [&service](http::Request& req) {
    const auto t = service.task(user_of(req), req.path_params.at("task"));
    const auto path = service.content(user_of(req), t.document.id);
    return file_response(path, download_name(t.document, path));
  });
  router.add("POST", "/api/v1/tasks/{task}/challenge", authed, [&service](http::Request& req) {
    const json j = body_of(req);
    const auto info = service.challenge(caller_of(req), req.path_params.at("task"), http::string_field(j, "credentialID", true));
    json o{{"transactionId", info.id}, {"expiresAt", time_of(info.expires_at)}, {"delivered", info.challenge.delivered}};
    if (!info.challenge.channel.empty()) o["channel"] = info.challenge.channel;
    return http::Response::json(200, o);
  });
  router.add("POST", "/api/v1/tasks/{task}/sign", authed, [&service](http::Request& req) {
    json j = body_of(req);
    secure_wipe(req.body.data(), req.body.size());  // the raw body holds the PIN / code too
    sigil::signservice::SignTask t;
    // The secrets first, wiped from the parsed body as they are taken, before anything can refuse.
    for (const char* k : {"pin", "otp"}) {
      const auto it = j.find(k);
      if (it == j.end() || it->is_null()) continue;
      if (!it->is_string()) {
        j.clear();
        bad(std::string(k) + " must be a string");
      }
      auto& v = it->get_ref<std::string&>();
      (std::string_view(k) == "pin" ? t.pin : t.otp) = SecretString(std::string(v));
      secure_wipe(v.data(), v.size());
    }
    t.caller = caller_of(req);
    t.task_id = req.path_params.at("task");
    t.credential_id = http::string_field(j, "credentialID", false);
    if (const auto tx = http::string_field(j, "transactionId", false); !tx.empty()) t.transaction_id = tx;
    return http::Response::json(200, document_json(service.sign(std::move(t)), user_of(req)));
  });
  router.add("POST", "/api/v1/tasks/{task}/decline", authed, [&service](http::Request& req) {
    const json j = body_of(req);
    return http::Response::json(
        200, document_json(service.decline(caller_of(req), req.path_params.at("task"), http::string_field(j, "reason", false)),
                           user_of(req)));
  });
}

}  // namespace sigil::api::signservice
