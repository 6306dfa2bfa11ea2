// /api/v1/batches: JSON in, JSON out (signed documents inline as base64 on request), or one signed
// document as raw bytes.
#include "sigil/api/batch.hpp"

#include <fstream>

#include "ossl/digest.hpp"
#include "sigil/api/request_actor.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/http/json.hpp"

namespace sigil::api::batch {
namespace {

using nlohmann::json;
using sigil::batch::BatchService;
using sigil::batch::BatchState;
using sigil::batch::BatchStatus;
using sigil::batch::ItemState;

constexpr std::size_t kMaxInlineBytes = 64u << 20;  // signed documents returned inline, in total
constexpr std::size_t kMaxKey = 128;

[[noreturn]] void bad(const std::string& message) { throw Error(Errc::invalid_argument, message, true); }

bool bool_field(const json& o, const char* name, bool fallback) {
  const auto it = o.find(name);
  if (it == o.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) bad(std::string(name) + " must be true or false");
  return it->get<bool>();
}

Bytes base64_field(const json& o, const char* name, const std::string& where) {
  const std::string v = http::string_field(o, name, true);
  try {
    return base64_decode(v);
  } catch (const Error&) {
    bad(where + "." + name + " is not valid base64");
  }
}

// DSS names (SHA256) and ours (sha256).
HashAlg digest_algorithm(const std::string& name, const std::string& where) {
  std::string n;
  for (char c : name) {
    if (c != '-' && c != '_') n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (n == "sha256") return HashAlg::sha256;
  if (n == "sha384") return HashAlg::sha384;
  if (n == "sha512") return HashAlg::sha512;
  bad(where + ".digestAlgorithm: SHA256, SHA384 or SHA512");
}

sigil::batch::Submission parse(const http::Request& req, const json& j, const std::string& body) {
  sigil::batch::Submission s;
  s.caller = signing::Caller::of(api::actor_of(req), "batch");
  s.profile = http::string_field(j, "profile", true);
  s.async = bool_field(j, "async", false);
  if (const auto w = http::string_field(j, "webhook", false); !w.empty()) s.webhook = w;
  const auto items = j.find("items");
  if (items == j.end() || !items->is_array()) bad("items must be an array");
  s.items.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const json& it = (*items)[i];
    const std::string where = "items[" + std::to_string(i) + "]";
    if (!it.is_object()) bad(where + " must be an object");
    sigil::batch::ItemInput in;
    in.name = http::string_field(it, "name", false);
    if (in.name.empty()) in.name = "document-" + std::to_string(i + 1);
    const bool has_bytes = it.contains("bytes") && !it["bytes"].is_null();
    const bool has_digest = it.contains("digest") && !it["digest"].is_null();
    if (has_bytes == has_digest) bad(where + ": exactly one of bytes (the document) and digest");
    if (has_bytes) {
      in.content = base64_field(it, "bytes", where);
    } else {
      in.content = base64_field(it, "digest", where);
      in.digest_alg = digest_algorithm(http::string_field(it, "digestAlgorithm", true), where);
    }
    s.items.push_back(std::move(in));
  }
  if (const auto key = req.header("Idempotency-Key")) {
    if (key->empty() || key->size() > kMaxKey) bad("Idempotency-Key: 1 to 128 characters");
    for (char c : *key) {
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
        bad("Idempotency-Key: printable ASCII without spaces");
      }
    }
    s.idempotency_key = std::string(*key);
  }
  s.request_sha256 = hex_encode(ossl::digest(HashAlg::sha256, body));
  return s;
}

json summary(const BatchStatus& s) {
  json out{{"id", s.id},
           {"state", std::string(to_string(s.state))},
           {"profile", s.profile},
           {"total", s.total},
           {"signed", s.signed_count},
           {"failed", s.failed},
           {"done", s.signed_count + s.failed},
           {"createdAt", to_rfc3339(Clock::time_point{std::chrono::seconds{s.created_at}})}};
  if (s.completed_at) out["completedAt"] = to_rfc3339(Clock::time_point{std::chrono::seconds{*s.completed_at}});
  if (s.webhook_state) out["webhook"] = *s.webhook_state;
  if (s.idempotency_key) out["idempotencyKey"] = *s.idempotency_key;
  return out;
}

json to_json(const BatchStatus& s, bool inline_documents) {
  json items = json::array();
  std::size_t inlined = 0;
  for (const auto& i : s.items) {
    json o{{"index", i.index}, {"name", i.name}, {"state", std::string(to_string(i.state))}};
    if (i.state == ItemState::signed_ok) {
      o["level"] = i.level;
      o["href"] = "/api/v1/batches/" + s.id + "/items/" + std::to_string(i.index);
      if (inline_documents) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(i.output, ec);
        if (!ec && inlined + size <= kMaxInlineBytes) {
          const std::string bytes = files::read(i.output);
          o["bytes"] = base64_encode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
          inlined += size;
        }
      }
    } else if (i.state == ItemState::failed) {
      o["error"] = i.error;
      o["error_description"] = i.error_description;
    }
    items.push_back(std::move(o));
  }
  json out = summary(s);
  out["items"] = std::move(items);
  return out;
}

http::Response respond(const BatchStatus& s, bool inline_documents, int status) {
  auto res = http::Response::json(status, to_json(s, inline_documents));
  if (status == 202) res.set_header("Location", "/api/v1/batches/" + s.id);
  if (s.replayed) res.set_header("Idempotent-Replayed", "true");
  return res;
}

bool inline_query(const http::Request& req) {
  const auto v = req.query_param("inline");
  return v && (*v == "true" || *v == "1");
}

std::string content_type(const std::string& name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".pdf")) return "application/pdf";
  if (ends(".xml")) return "application/xml";
  return "application/octet-stream";
}

}  // namespace

void register_routes(http::Router& router, BatchService& service) {
  router.add("POST", "/api/v1/batches", http::AuthRequirement::authenticated(), [&service](http::Request& req) {
    // A large body was spooled by the server; the HTTP layer bounds it by server.max_body_bytes.
    const std::string body = req.body_file.empty() ? req.body : files::read(req.body_file);
    const json j = http::parse_json_bounded(body, req.max_json_depth);
    if (!j.is_object()) bad("the request body must be a JSON object");
    const bool inline_documents = bool_field(j, "inline", true);
    auto s = service.submit(parse(req, j, body));
    const bool done = s.state == BatchState::completed;
    return respond(s, inline_documents && done, done ? 200 : 202);
  });
  router.add("GET", "/api/v1/batches", http::AuthRequirement::authenticated(), [&service](http::Request& req) {
    std::size_t limit = 100;
    if (const auto l = req.query_param("limit")) {
      try {
        limit = std::stoul(std::string(*l));
      } catch (const std::exception&) {
        limit = 0;
      }
      if (limit < 1 || limit > 1000) bad("limit: 1 to 1000");
    }
    json list = json::array();
    for (const auto& s : service.list(req.principal ? req.principal->id : "", limit)) list.push_back(summary(s));
    return http::Response::json(200, {{"batches", std::move(list)}});
  });
  router.add("GET", "/api/v1/batches/{id}", http::AuthRequirement::authenticated(), [&service](http::Request& req) {
    const auto s = service.status(req.principal ? req.principal->id : "", req.path_params.at("id"));
    return respond(s, inline_query(req), 200);
  });
  router.add("GET", "/api/v1/batches/{id}/items/{index}", http::AuthRequirement::authenticated(),
             [&service](http::Request& req) {
               const auto s = service.status(req.principal ? req.principal->id : "", req.path_params.at("id"));
               const std::string& index = req.path_params.at("index");
               for (const auto& i : s.items) {
                 if (std::to_string(i.index) != index) continue;
                 if (i.state != ItemState::signed_ok) {
                   throw Error(Errc::not_found, "item " + index + " has no signed document (" +
                                                    std::string(to_string(i.state)) + ")", true);
                 }
                 auto res = http::Response::text(200, files::read(i.output), content_type(i.name));
                 res.set_header("X-Sigil-Signature-Level", i.level);
                 return res;
               }
               throw Error(Errc::not_found, "no item " + index + " in batch " + s.id, true);
             });
}

}  // namespace sigil::api::batch
