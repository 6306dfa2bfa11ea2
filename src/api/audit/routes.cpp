// /api/admin/v1/audit: records (filtered pages), one record, JSON-lines export, verification.
#include <charconv>
#include <sstream>

#include "sigil/api/audit.hpp"
#include "sigil/api/request_actor.hpp"
#include "sigil/audit/query.hpp"
#include "sigil/common/error.hpp"

namespace sigil::api::audit_api {
namespace {

using nlohmann::json;
constexpr const char* kPrefix = "/api/admin/v1/audit";

std::int64_t parse_int(std::string_view text, const char* name) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw Error(Errc::invalid_argument, std::string("'") + name + "' must be an integer", true);
  }
  return v;
}

std::string query_text(const http::Request& req, const char* name) {
  const auto v = req.query_param(name);
  return v ? std::string(*v) : std::string();
}

struct Context {
  store::Database& db;
  audit::Sink& sink;
  Bytes spki;
};

http::Response list(const Context& ctx, http::Request& req) {
  audit::Query q;
  q.from = query_text(req, "from");
  q.to = query_text(req, "to");
  q.user = query_text(req, "user");
  q.credential = query_text(req, "credential");
  q.type = query_text(req, "type");
  q.digest = query_text(req, "digest");
  if (const auto v = req.query_param("limit"); v && !v->empty()) {
    const auto n = parse_int(*v, "limit");
    if (n < 1 || n > 1000) throw Error(Errc::invalid_argument, "'limit' must be between 1 and 1000", true);
    q.limit = static_cast<std::size_t>(n);
  }
  if (const auto v = req.query_param("after_seq"); v && !v->empty()) q.after_seq = parse_int(*v, "after_seq");
  const audit::Page page = audit::find_records(ctx.db, q);
  json records = json::array();
  for (const auto& r : page.records) records.push_back(record_to_json(r));
  return http::Response::json(200, {{"records", records}, {"next_after_seq", page.next_after_seq}, {"more", page.more}});
}

http::Response show(const Context& ctx, http::Request& req) {
  const auto seq = parse_int(req.path_params.at("seq"), "seq");
  const auto r = audit::find_record(ctx.db, seq);
  if (!r) throw Error(Errc::not_found, "no audit record " + std::to_string(seq), true);
  return http::Response::json(200, record_to_json(*r));
}

http::Response export_trail(const Context& ctx, http::Request& req) {
  const audit::Trail trail = audit::read_all(ctx.db);
  std::ostringstream out;
  audit::export_jsonl(trail, out);
  // Reading the whole trail is itself recorded, before the data leaves.
  audit::Event e = audit::make_event(audit::type::audit_export, actor_of(req), true);
  e.details["records"] = std::to_string(trail.records.size());
  e.details["checkpoints"] = std::to_string(trail.checkpoints.size());
  if (!trail.records.empty()) e.details["last_seq"] = std::to_string(trail.records.back().seq);
  ctx.sink.append(std::move(e));
  http::Response res = http::Response::text(200, out.str(), "application/x-ndjson");
  res.set_header("Content-Disposition", "attachment; filename=\"sigil-audit.jsonl\"");
  return res;
}

http::Response verify(const Context& ctx, http::Request& req) {
  ctx.sink.check_available();
  const audit::Trail trail = audit::read_all(ctx.db);
  const audit::VerifyReport report = audit::verify_chain(trail.records, trail.checkpoints, ctx.spki);
  audit::Event e = audit::make_event(audit::type::audit_verify, actor_of(req), report.ok);
  e.details["records"] = std::to_string(report.records);
  e.details["checkpoints"] = std::to_string(report.checkpoints);
  e.details["last_checkpointed_seq"] = std::to_string(report.last_checkpointed_seq);
  if (!report.ok) {
    e.details["problem"] = std::string(audit::to_string(report.problem));
    e.details["position"] = std::to_string(report.position);
    e.details["message"] = report.message;
  }
  ctx.sink.append(std::move(e));
  return http::Response::json(200, report_to_json(report));
}

}  // namespace

json record_to_json(const audit::Record& r) {
  json j = json::parse(audit::canonical_json(r));
  j["hash"] = r.hash;
  return j;
}

json report_to_json(const audit::VerifyReport& r) {
  return {{"ok", r.ok},
          {"problem", std::string(audit::to_string(r.problem))},
          {"position", r.position},
          {"message", r.message},
          {"records", r.records},
          {"checkpoints", r.checkpoints},
          {"last_checkpointed_seq", r.last_checkpointed_seq}};
}

void register_routes(http::Router& router, store::Database& db, audit::Sink& sink, Bytes audit_public_key_spki) {
  const auto ctx = std::make_shared<const Context>(Context{db, sink, std::move(audit_public_key_spki)});
  const auto add = [&](const char* method, const std::string& path, http::Response (*handler)(const Context&, http::Request&)) {
    // The role is checked here rather than by the router so that a refusal is audited too.
    router.add(
        method, kPrefix + path, http::AuthRequirement::authenticated(),
        [ctx, handler](http::Request& req) {
          if (!req.principal || !req.principal->has_role("auditor")) {
            ctx->sink.append(audit::forbidden_event(actor_of(req), req.method, req.route, "auditor"));
            throw Error(Errc::forbidden, "principal '" + (req.principal ? req.principal->id : std::string("?")) +
                                             "' lacks role 'auditor'");
          }
          return handler(*ctx, req);
        },
        http::RouteOptions{true});
  };
  add("GET", "/records", list);
  add("GET", "/records/{seq}", show);
  add("GET", "/export", export_trail);
  add("POST", "/verify", verify);
}

}  // namespace sigil::api::audit_api
