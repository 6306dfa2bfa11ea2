// sigilctl audit list|show|export|verify — the tamper-evident audit trail (auditor role).
// `verify --file F --cert C` works offline: no server, no token, only the export and the audit
// certificate. A broken chain exits with audit_chain_broken's code (71), naming the position.
#include <fstream>
#include <sstream>

#include "cli/client.hpp"
#include "ossl/x509.hpp"
#include "sigil/api/audit.hpp"
#include "sigil/audit/verify.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"

namespace sigil::cli {
namespace {

struct ListOptions {
  std::string from, to, user, credential, type, digest;
  int limit = 0;
  long long after_seq = 0;
};

std::string query_string(const ListOptions& o) {
  std::string q;
  const auto put = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    q += (q.empty() ? "?" : "&") + std::string(name) + "=" + path_segment(value);
  };
  put("from", o.from);
  put("to", o.to);
  put("user", o.user);
  put("credential", o.credential);
  put("type", o.type);
  put("digest", o.digest);
  if (o.limit > 0) put("limit", std::to_string(o.limit));
  if (o.after_seq > 0) put("after_seq", std::to_string(o.after_seq));
  return q;
}

// Prints the report; returns 0 when the chain verifies, audit_chain_broken's exit code otherwise.
int report(const GlobalOptions& g, const nlohmann::json& r) {
  std::ostringstream human;
  if (r.value("ok", false)) {
    human << "audit chain OK: " << r.value("records", 0) << " records, " << r.value("checkpoints", 0)
          << " checkpoints; signed up to seq " << r.value("last_checkpointed_seq", 0);
    if (r.value("records", 0) > r.value("last_checkpointed_seq", 0)) {
      human << " (later records are chained but not yet covered by a checkpoint)";
    }
    human << "\n";
  } else {
    human << "audit chain BROKEN at position " << r.value("position", 0) << ": " << r.value("message", "") << " ("
          << r.value("problem", "") << ")\n";
  }
  print(g, r, human.str());
  return r.value("ok", false) ? 0 : error_info(Errc::audit_chain_broken).exit_code;
}

int verify_offline(const GlobalOptions& g, const std::string& file, const std::string& cert) {
  if (cert.empty()) throw Error(Errc::invalid_argument, "--file needs --cert (the audit certificate, PEM or DER)", true);
  std::ifstream in(file);
  if (!in) throw Error(Errc::io, "cannot read " + file, true);
  const audit::Trail trail = audit::import_jsonl(in);
  const Bytes spki = ossl::inspect_certificate(ossl::read_certificate(files::read(cert))).public_key_der;
  return report(g, api::audit_api::report_to_json(audit::verify_chain(trail.records, trail.checkpoints, spki)));
}

}  // namespace

void register_audit(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* audit = app.add_subcommand("audit", "The audit trail: list, show, export, verify (auditor role)")
                    ->require_subcommand(1);

  auto l = std::make_shared<ListOptions>();
  auto* list = audit->add_subcommand("list", "List audit records, oldest first, filtered");
  list->add_option("--from", l->from, "Records at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
  list->add_option("--to", l->to, "Records before this time (same forms)");
  list->add_option("--user", l->user, "Acting user, or the user acted upon (name or id)");
  list->add_option("--credential", l->credential, "Credential id");
  list->add_option("--type", l->type, "Event type, e.g. auth.failure; a prefix with a trailing * (admin.*)");
  list->add_option("--digest", l->digest, "Document digest (hex, or sha256:hex)");
  list->add_option("--limit", l->limit, "At most this many records (1-1000, default 100)");
  list->add_option("--after-seq", l->after_seq, "Only records after this sequence number (paging)");
  list->callback([&g, &action, l] {
    action = [&g, l] {
      const auto r = make_client(g)->call("GET", "/audit/records" + query_string(*l));
      std::string human = table(r.body["records"], {"seq", "time", "type", "principal", "outcome", "client_address"});
      if (r.body.value("more", false)) {
        human += "(more: --after-seq " + std::to_string(r.body.value("next_after_seq", 0LL)) + ")\n";
      }
      print(g, r.body, human);
      return 0;
    };
  });

  auto seq = std::make_shared<long long>(0);
  auto* show = audit->add_subcommand("show", "Show one audit record with its details and hashes");
  show->add_option("seq", *seq, "Sequence number")->required();
  show->callback([&g, &action, seq] {
    action = [&g, seq] {
      const auto r = make_client(g)->call("GET", "/audit/records/" + std::to_string(*seq));
      std::string human = describe(r.body, {"seq", "time", "type", "principal", "client_address", "request_id",
                                            "outcome", "prev_hash", "hash"});
      for (const auto& [k, v] : r.body["details"].items()) human += "  " + k + ": " + v.get<std::string>() + "\n";
      print(g, r.body, human);
      return 0;
    };
  });

  auto out = std::make_shared<std::string>();
  auto* exp = audit->add_subcommand("export", "Export the whole trail with its checkpoints as JSON lines");
  exp->add_option("-o,--output", *out, "Write to this file (default: standard output)");
  exp->callback([&g, &action, out] {
    action = [&g, out] {
      const auto r = make_client(g)->call_text("GET", "/audit/export");
      if (out->empty() || *out == "-") {
        std::cout << r.text;
      } else {
        files::write_atomic(*out, r.text, 0600);
        std::size_t lines = 0;
        for (const char c : r.text) lines += c == '\n' ? 1 : 0;
        std::cerr << "wrote " << lines << " lines to " << *out << "\n";
      }
      return 0;
    };
  });

  auto file = std::make_shared<std::string>();
  auto cert = std::make_shared<std::string>();
  auto* verify = audit->add_subcommand(
      "verify", "Verify the chain and its signed checkpoints (exit 71 when broken, naming the position)");
  verify->add_option("--file", *file, "Verify this export offline instead (no server, no token)");
  verify->add_option("--cert", *cert, "The audit certificate (PEM or DER) for --file, e.g. var/pki/audit.pem");
  verify->callback([&g, &action, file, cert] {
    action = [&g, file, cert] {
      if (!file->empty()) return verify_offline(g, *file, *cert);
      return report(g, make_client(g)->call("POST", "/audit/verify", nlohmann::json::object()).body);
    };
  });
}

}  // namespace sigil::cli
