// SignService: documents, their signers in order, tasks, the signing step (second factor, SAD
// spent for the exact version, signature, transition committed with its audit record),
// notifications and verification.
#include "sigil/signservice/workflow.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "ossl/digest.hpp"
#include "pades/cms_inspect.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/cms/cades.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/url.hpp"
#include "sigil/pades/pades.hpp"
#include "sigil/store/database.hpp"
#include "sigil/store/users.hpp"
#include "notifier.hpp"

namespace sigil::signservice {
namespace fs = std::filesystem;

std::string_view to_string(DocumentState s) {
  switch (s) {
    case DocumentState::in_progress: return "in_progress";
    case DocumentState::completed: return "completed";
    case DocumentState::declined: return "declined";
    case DocumentState::cancelled: return "cancelled";
  }
  return "in_progress";
}

std::string_view to_string(TaskState s) {
  switch (s) {
    case TaskState::waiting: return "waiting";
    case TaskState::ready: return "ready";
    case TaskState::signed_ok: return "signed";
    case TaskState::declined: return "declined";
    case TaskState::cancelled: return "cancelled";
  }
  return "waiting";
}

namespace {

constexpr std::size_t kMaxName = 255;
constexpr std::size_t kMaxReason = 500;

[[noreturn]] void bad(const std::string& message) { throw Error(Errc::invalid_argument, message, true); }
[[noreturn]] void wrong_state(const std::string& message) { throw Error(Errc::invalid_signing_state, message, true); }
[[noreturn]] void no_document(const std::string& id) { throw Error(Errc::not_found, "no document '" + id + "'", true); }
[[noreturn]] void no_task(const std::string& id) { throw Error(Errc::not_found, "no task '" + id + "'", true); }

DocumentState document_state(const std::string& s) {
  if (s == "completed") return DocumentState::completed;
  if (s == "declined") return DocumentState::declined;
  if (s == "cancelled") return DocumentState::cancelled;
  return DocumentState::in_progress;
}

TaskState task_state(const std::string& s) {
  if (s == "ready") return TaskState::ready;
  if (s == "signed") return TaskState::signed_ok;
  if (s == "declined") return TaskState::declined;
  if (s == "cancelled") return TaskState::cancelled;
  return TaskState::waiting;
}

// How a profile's signatures are kept: a new version per signature, or a file per signer.
enum class Kind { chained, detached };

Kind kind_of(const signing::Profile& p, std::size_t signers) {
  using signing::Format;
  using signing::Packaging;
  const auto& r = p.request;
  if (r.format == Format::xades) {
    bad("profile '" + p.name + "' makes XAdES signatures; the Sign Service signs with PAdES or CAdES profiles");
  }
  if (r.format == Format::pades) return Kind::chained;
  if (r.packaging == Packaging::detached) return Kind::detached;
  if (signers > 1) {
    bad("profile '" + p.name + "' makes an enveloping CAdES signature, which holds one signer; use a PAdES or a "
        "detached CAdES profile for several signers");
  }
  return Kind::chained;
}

std::string extension(const signing::Profile& p, bool original) {
  if (p.request.format == signing::Format::pades) return ".pdf";
  if (original) return ".bin";
  return p.request.packaging == signing::Packaging::detached ? ".p7s" : ".p7m";
}

std::string sha256_hex(const fs::path& path) {
  const std::string bytes = files::read(path);
  return hex_encode(ossl::digest(HashAlg::sha256, bytes));
}

bool plain_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxName || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == '\\' || c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

audit::Actor actor_of(const signing::Caller& c) { return audit::Actor{c.user_id, c.username, c.address, c.request_id}; }

constexpr const char* kDocColumns =
    "SELECT id, owner_id, owner_name, name, profile, state, detached, version, original_file, original_sha256, "
    "current_file, current_sha256, webhook_url, created_at, finished_at FROM signservice_documents ";
constexpr const char* kSignerColumns =
    "SELECT position, step, user_id, username, task_id, state, signed_at, credential_id, certificate_subject, "
    "certificate_sha256, level, output_file, input_sha256, output_sha256, reason FROM signservice_signers ";

SignerStatus signer_of(const store::Row& r) {
  SignerStatus s;
  s.position = static_cast<int>(r.get_int("position"));
  s.step = static_cast<int>(r.get_int("step"));
  s.user_id = r.get_text("user_id");
  s.username = r.get_text("username");
  s.task_id = r.get_text("task_id");
  s.state = task_state(r.get_text("state"));
  s.signed_at = r.opt_int("signed_at");
  s.credential_id = r.opt_text("credential_id").value_or("");
  s.certificate_subject = r.opt_text("certificate_subject").value_or("");
  s.certificate_sha256 = r.opt_text("certificate_sha256").value_or("");
  s.level = r.opt_text("level").value_or("");
  s.input_sha256 = r.opt_text("input_sha256").value_or("");
  s.output_sha256 = r.opt_text("output_sha256").value_or("");
  s.reason = r.opt_text("reason").value_or("");
  return s;
}

// What the service keeps of a document row beyond DocumentStatus: file names and the webhook.
struct Stored {
  DocumentStatus status;
  std::string original_file, current_file;
  std::optional<std::string> webhook;
  std::vector<std::string> output_files;  // per signer (index position - 1); empty when none
};

}  // namespace

struct SignService::Impl {
  store::Database& db;
  store::UserRepository& users;
  signing::SigningService& signing;
  auth::AuthorizationService& authorization;
  audit::Sink& audit;
  std::vector<signing::Profile> profiles;
  const Clock& clock;
  Options options;

  // Two sign requests for one document on this node take turns (a second one finds the task
  // signed instead of spending a second factor for nothing); across nodes the conditional
  // UPDATEs decide.
  std::array<std::mutex, 16> sign_mu;

  Notifier notifier;  // after the members it reads (db): stopped first

  Impl(store::Database& d, store::UserRepository& u, signing::SigningService& s, auth::AuthorizationService& a,
       audit::Sink& au, std::vector<signing::Profile> p, const Clock& c, Options o, WebhookSender w)
      : db(d),
        users(u),
        signing(s),
        authorization(a),
        audit(au),
        profiles(std::move(p)),
        clock(c),
        options(std::move(o)),
        notifier(d, notifier_options(options), std::move(w)) {
    files::ensure_dir(options.dir, 0700);
  }
  ~Impl() { stop(); }

  static NotifierOptions notifier_options(const Options& o) {
    NotifierOptions n;
    n.prefixes = o.webhook_prefixes;
    n.attempts = o.webhook_attempts;
    n.backoff = o.webhook_backoff;
    n.timeout = o.webhook_timeout;
    return n;
  }

  void stop() { notifier.stop(); }

  bool allowed_webhook(const std::string& url) const { return url_under_prefix(url, options.webhook_prefixes); }

  // What a transition changed from `before` (null: a new document): the document finished, or
  // tasks became ready.
  std::vector<nlohmann::json> news(const Stored& d, const DocumentStatus* before) const {
    std::vector<nlohmann::json> out;
    if (d.status.state != DocumentState::in_progress) {
      out.push_back({{"event", "document." + std::string(to_string(d.status.state))},
                     {"state", std::string(to_string(d.status.state))}});
    } else {
      for (const auto& s : d.status.signers) {
        if (s.state != TaskState::ready) continue;
        if (before != nullptr && static_cast<std::size_t>(s.position) <= before->signers.size() &&
            before->signers[static_cast<std::size_t>(s.position - 1)].state == TaskState::ready) {
          continue;  // announced already
        }
        nlohmann::json body = {{"event", "task.ready"},
                               {"taskId", s.task_id},
                               {"username", s.username},
                               {"position", s.position},
                               {"taskHref", "/api/v1/tasks/" + s.task_id}};
        if (!options.task_url.empty()) {
          std::string url = options.task_url;
          if (const auto at = url.find("{task}"); at != std::string::npos) url.replace(at, 6, s.task_id);
          body["taskUrl"] = url;
        }
        out.push_back(std::move(body));
      }
    }
    for (auto& body : out) {
      body["documentId"] = d.status.id;
      body["href"] = "/api/v1/documents/" + d.status.id;
    }
    return out;
  }

  // Inside a transition's transaction, after its updates: the notifications it causes, queued in
  // the same commit (no transition without its notification, no notification without it).
  void queue_news(store::Database& tx, const std::string& id, const std::optional<std::string>& webhook,
                  const DocumentStatus* before) {
    if (!webhook) return;
    const auto after = load_in(tx, id);
    if (!after) return;
    for (auto& body : news(*after, before)) Notifier::enqueue(tx, id, *webhook, std::move(body));
  }

  const signing::Profile& profile(const std::string& name) const {
    for (const auto& p : profiles) {
      if (p.name == name) return p;
    }
    bad("profile: no signing profile named '" + name + "'");
  }

  fs::path dir_of(const std::string& id) const { return options.dir / id; }

  // The document and its signers from one read snapshot (never half of a transition).
  std::optional<Stored> load(store::Database& from, const std::string& id) {
    std::optional<Stored> out;
    from.read_transaction([&](store::Database& tx) { out = load_in(tx, id); });
    return out;
  }

  std::optional<Stored> load_in(store::Database& from, const std::string& id) {
    const auto row = from.query_one(std::string(kDocColumns) + "WHERE id = $1", {id});
    if (!row) return std::nullopt;
    Stored d;
    auto& s = d.status;
    s.id = row->get_text("id");
    s.owner_id = row->get_text("owner_id");
    s.owner_name = row->get_text("owner_name");
    s.name = row->get_text("name");
    s.profile = row->get_text("profile");
    s.state = document_state(row->get_text("state"));
    s.detached = row->get_int("detached") != 0;
    s.version = row->get_int("version");
    s.original_sha256 = row->get_text("original_sha256");
    s.current_sha256 = row->get_text("current_sha256");
    s.created_at = row->get_int("created_at");
    s.finished_at = row->opt_int("finished_at");
    d.original_file = row->get_text("original_file");
    d.current_file = row->get_text("current_file");
    d.webhook = row->opt_text("webhook_url");
    for (const auto& r : from.query(std::string(kSignerColumns) + "WHERE document_id = $1 ORDER BY position", {id})) {
      s.signers.push_back(signer_of(r));
      d.output_files.push_back(r.opt_text("output_file").value_or(""));
    }
    return d;
  }

  static bool participant(const Stored& d, const std::string& user_id) {
    if (d.status.owner_id == user_id) return true;
    return std::any_of(d.status.signers.begin(), d.status.signers.end(),
                       [&](const SignerStatus& s) { return s.user_id == user_id; });
  }

  // The document for its owner or a signer; anyone else sees nothing.
  Stored visible(const std::string& user_id, const std::string& id) {
    auto d = load(db, id);
    if (!d || !participant(*d, user_id)) no_document(id);
    return std::move(*d);
  }

  Stored owned(const std::string& user_id, const std::string& id) {
    auto d = load(db, id);
    if (!d || d->status.owner_id != user_id) no_document(id);
    return std::move(*d);
  }

  // The task and its document, for the task's signer only.
  std::pair<Stored, int> task_of(const std::string& user_id, const std::string& task_id) {
    const auto row = db.query_one("SELECT document_id, position, user_id FROM signservice_signers WHERE task_id = $1",
                                  {task_id});
    if (!row || row->get_text("user_id") != user_id) no_task(task_id);
    auto d = load(db, row->get_text("document_id"));
    if (!d) no_task(task_id);
    return {std::move(*d), static_cast<int>(row->get_int("position"))};
  }

  audit::Event event(std::string_view type, const signing::Caller& caller, const Stored& d) const {
    auto e = audit::make_event(type, actor_of(caller), true);
    e.details["document_id"] = d.status.id;
    e.details["document_name"] = d.status.name;
    return e;
  }

  Verification verify(Stored d);

  // The document as the transition left it; its notifications (committed with it) go out now. A
  // document deleted right after (possible once finished) answers 404 rather than a status that no
  // longer exists.
  DocumentStatus after_transition(const std::string& id, bool notified) {
    if (notified) notifier.kick();
    auto after = load(db, id);
    if (!after) no_document(id);
    return std::move(after->status);
  }
};

SignService::SignService(store::Database& db, store::UserRepository& users, signing::SigningService& signing,
                         auth::AuthorizationService& authorization, audit::Sink& audit,
                         std::vector<signing::Profile> profiles, const Clock& clock, Options options,
                         WebhookSender webhook)
    : impl_(std::make_unique<Impl>(db, users, signing, authorization, audit, std::move(profiles), clock,
                                   std::move(options), std::move(webhook))) {}

SignService::~SignService() { impl_->stop(); }

void SignService::stop() { impl_->stop(); }

DocumentStatus SignService::create(const NewDocument& in) {
  auto& m = *impl_;
  if (!plain_name(in.name)) bad("name: a file name of 1 to 255 characters, without '/', '\\', '\"' or control characters");
  const auto& profile = m.profile(in.profile);
  if (in.signers.empty()) bad("signers: at least one signer is required");
  if (in.signers.size() > m.options.max_signers) {
    bad("signers: at most " + std::to_string(m.options.max_signers) + " per document");
  }
  const Kind kind = kind_of(profile, in.signers.size());
  if (profile.request.format == signing::Format::pades && profile.request.pades.certification != 0 &&
      in.signers.size() > 1) {
    bad("profile '" + profile.name + "' certifies the document, which only its first signature may do (and the "
        "others would be refused); use an approval profile for documents with several signers");
  }
  if (in.content.empty()) bad("content: the document is empty");
  if (profile.request.format == signing::Format::pades) {
    const std::string_view head(reinterpret_cast<const char*>(in.content.data()), std::min<std::size_t>(in.content.size(), 1024));
    if (head.find("%PDF-") == std::string_view::npos) {
      throw Error(Errc::invalid_document, "content: profile '" + profile.name + "' signs PDF documents; this is not one",
                  true);
    }
  }
  struct Signer {
    std::string user_id, username;
    int step = 0;
  };
  std::vector<Signer> signers;
  std::set<std::string> seen;
  int previous_step = 0;
  for (std::size_t i = 0; i < in.signers.size(); ++i) {
    const auto& name = in.signers[i].username;
    const std::string where = "signers[" + std::to_string(i) + "]";
    int step = in.signers[i].step;
    if (step == 0) step = previous_step + 1;
    if (step < previous_step || step < 1 || step > static_cast<int>(m.options.max_signers)) {
      bad(where + ".step: signers are listed in step order (" + std::to_string(previous_step) + " or more, at most " +
          std::to_string(m.options.max_signers) + ")");
    }
    previous_step = step;
    const auto user = m.users.get_by_username(name);
    if (!user || user->status != store::UserStatus::active) bad(where + ": no active user '" + name + "'");
    if (!seen.insert(user->id).second) bad(where + ": '" + name + "' is already a signer of this document");
    signers.push_back({user->id, user->username, step});
  }
  if (in.webhook && !m.allowed_webhook(*in.webhook)) {
    bad("webhook: the URL is not under one of the prefixes allowed by signservice.webhook_prefixes (and may not "
        "contain dot segments, backslashes or percent-encoded dots)");
  }
  m.audit.check_available();  // fail closed before anything is written

  const std::string id = "d_" + random_token(16);
  const fs::path dir = m.dir_of(id);
  files::ensure_dir(dir, 0700);
  const std::string original = "v0" + extension(profile, true);
  const std::string sha = hex_encode(ossl::digest(HashAlg::sha256, in.content));
  const auto now = static_cast<std::int64_t>(to_unix(m.clock.now()));
  std::vector<std::string> task_ids;
  for (std::size_t i = 0; i < signers.size(); ++i) task_ids.push_back("t_" + random_token(16));
  try {
    files::write_atomic(dir / original,
                        std::string_view(reinterpret_cast<const char*>(in.content.data()), in.content.size()), 0600);
    if (profile.request.format == signing::Format::pades) {
      // A PDF the signers could never sign is refused now, not at the first signer's turn: one the
      // engine cannot read (corrupt, or encrypted: the Sign Service takes no password), or one whose
      // certification forbids a new signature field.
      const int docmdp = pades::certification_level(dir / original);
      if (docmdp == 1 || docmdp == 2) {
        throw Error(Errc::document_locked,
                    "content: the PDF is certified with DocMDP P=" + std::to_string(docmdp) +
                        ", which forbids the new signature fields the signers would add",
                    true);
      }
    }
    Stored probe;
    probe.status.id = id;
    probe.status.name = in.name;
    auto e = m.event("signservice.document.create", in.caller, probe);
    e.details["profile"] = profile.name;
    e.details["document_digest"] = "sha256:" + sha;
    e.details["signer_count"] = std::to_string(signers.size());
    for (std::size_t i = 0; i < signers.size(); ++i) {
      e.details["signer." + std::to_string(i + 1)] = signers[i].username + " (step " + std::to_string(signers[i].step) + ")";
    }
    m.audit.append_with(std::move(e),
                        [&](store::Database& tx, audit::Event&) {
                          tx.exec("INSERT INTO signservice_documents (id, owner_id, owner_name, name, profile, state, "
                                  "detached, version, original_file, original_sha256, current_file, current_sha256, "
                                  "webhook_url, created_at) VALUES ($1, $2, $3, $4, $5, 'in_progress', $6, 0, $7, $8, "
                                  "$7, $8, $9, $10)",
                                  {id, in.caller.user_id, in.caller.username, in.name, profile.name,
                                   std::int64_t{kind == Kind::detached ? 1 : 0}, original, sha,
                                   store::nullable(in.webhook), now});
                          for (std::size_t i = 0; i < signers.size(); ++i) {
                            tx.exec("INSERT INTO signservice_signers (document_id, position, step, user_id, "
                                    "username, task_id, state) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                    {id, static_cast<std::int64_t>(i + 1), std::int64_t{signers[i].step},
                                     signers[i].user_id, signers[i].username, task_ids[i],
                                     std::string(signers[i].step == signers.front().step ? "ready" : "waiting")});
                          }
                          m.queue_news(tx, id, in.webhook, nullptr);
                        },
                        m.db);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
  return m.after_transition(id, in.webhook.has_value());
}

DocumentStatus SignService::status(const std::string& user_id, const std::string& id) {
  return impl_->visible(user_id, id).status;
}

std::vector<DocumentStatus> SignService::list(const std::string& user_id, std::size_t limit) {
  std::vector<DocumentStatus> out;
  const auto rows = impl_->db.query(
      "SELECT id FROM signservice_documents WHERE owner_id = $1 ORDER BY created_at DESC, id LIMIT $2",
      {user_id, static_cast<std::int64_t>(limit)});
  for (const auto& r : rows) {
    if (auto d = impl_->load(impl_->db, r.get_text("id"))) out.push_back(std::move(d->status));
  }
  return out;
}

fs::path SignService::content(const std::string& user_id, const std::string& id) {
  const auto d = impl_->visible(user_id, id);
  return impl_->dir_of(id) / d.current_file;
}

fs::path SignService::signature_file(const std::string& user_id, const std::string& id, int position) {
  const auto d = impl_->visible(user_id, id);
  if (position < 1 || position > static_cast<int>(d.status.signers.size())) {
    throw Error(Errc::not_found, "document '" + id + "' has no signer " + std::to_string(position), true);
  }
  const auto& s = d.status.signers[static_cast<std::size_t>(position - 1)];
  if (!d.status.detached || s.state != TaskState::signed_ok) {
    throw Error(Errc::not_found, "signer " + std::to_string(position) + " of document '" + id +
                                     "' has no signature file (" + std::string(to_string(s.state)) +
                                     (d.status.detached ? ")" : "; the signatures are in the document)"),
                true);
  }
  return impl_->dir_of(id) / d.output_files[static_cast<std::size_t>(position - 1)];
}

DocumentStatus SignService::cancel(const signing::Caller& caller, const std::string& id) {
  auto& m = *impl_;
  const auto d = m.owned(caller.user_id, id);
  if (d.status.state != DocumentState::in_progress) {
    wrong_state("document '" + id + "' is " + std::string(to_string(d.status.state)) + ", it cannot be cancelled");
  }
  const auto now = static_cast<std::int64_t>(to_unix(m.clock.now()));
  m.audit.append_with(m.event("signservice.document.cancel", caller, d),
                      [&](store::Database& tx, audit::Event&) {
                        if (tx.exec("UPDATE signservice_documents SET state = 'cancelled', finished_at = $2 "
                                    "WHERE id = $1 AND state = 'in_progress'",
                                    {id, now}) != 1) {
                          wrong_state("document '" + id + "' was finished meanwhile");
                        }
                        tx.exec("UPDATE signservice_signers SET state = 'cancelled' WHERE document_id = $1 AND state IN "
                                "('waiting', 'ready')",
                                {id});
                        m.queue_news(tx, id, d.webhook, &d.status);
                      },
                      m.db);
  return m.after_transition(id, d.webhook.has_value());
}

void SignService::remove(const signing::Caller& caller, const std::string& id) {
  auto& m = *impl_;
  const auto d = m.owned(caller.user_id, id);
  if (d.status.state == DocumentState::in_progress) {
    wrong_state("document '" + id + "' is in progress; cancel it first");
  }
  m.audit.append_with(m.event("signservice.document.delete", caller, d),
                      [&](store::Database& tx, audit::Event&) {
                        tx.exec("DELETE FROM signservice_signers WHERE document_id = $1", {id});
                        if (tx.exec("DELETE FROM signservice_documents WHERE id = $1", {id}) != 1) no_document(id);
                      },
                      m.db);
  std::error_code ec;
  fs::remove_all(m.dir_of(id), ec);
  if (ec) log::warn("signservice: files of deleted document {} not removed: {}", id, ec.message());
}

std::vector<TaskView> SignService::tasks(const std::string& user_id, bool ready_only) {
  auto& m = *impl_;
  std::vector<TaskView> out;
  const auto rows = m.db.query(std::string("SELECT s.document_id, s.position FROM signservice_signers s JOIN "
                                           "signservice_documents d ON d.id = s.document_id WHERE s.user_id = $1") +
                                   (ready_only ? " AND s.state = 'ready'" : "") +
                                   " ORDER BY CASE s.state WHEN 'ready' THEN 0 ELSE 1 END, d.created_at DESC, d.id",
                               {user_id});
  for (const auto& r : rows) {
    auto d = m.load(m.db, r.get_text("document_id"));
    if (!d) continue;
    const auto pos = static_cast<std::size_t>(r.get_int("position"));
    out.push_back(TaskView{d->status.signers.at(pos - 1), std::move(d->status)});
  }
  return out;
}

TaskView SignService::task(const std::string& user_id, const std::string& task_id) {
  auto [d, pos] = impl_->task_of(user_id, task_id);
  return TaskView{d.status.signers.at(static_cast<std::size_t>(pos - 1)), std::move(d.status)};
}

namespace {

// The task must be the caller's turn on a document in progress.
void check_ready(const Stored& d, int position) {
  if (d.status.state != DocumentState::in_progress) {
    wrong_state("document '" + d.status.id + "' is " + std::string(to_string(d.status.state)));
  }
  const auto& s = d.status.signers.at(static_cast<std::size_t>(position - 1));
  if (s.state == TaskState::ready) return;
  if (s.state == TaskState::waiting) {
    std::string waiting_for;
    for (const auto& before : d.status.signers) {
      if (before.state == TaskState::ready) waiting_for += (waiting_for.empty() ? "" : ", ") + before.username;
    }
    if (!waiting_for.empty()) wrong_state("not your turn yet: waiting for " + waiting_for + " to sign");
  }
  wrong_state("the task is " + std::string(to_string(s.state)));
}

}  // namespace

auth::TransactionInfo SignService::challenge(const signing::Caller& caller, const std::string& task_id,
                                             const std::string& credential_id) {
  auto& m = *impl_;
  auto [d, pos] = m.task_of(caller.user_id, task_id);
  check_ready(d, pos);
  if (credential_id.empty()) bad("credentialID is required");
  (void)m.signing.credential(caller, credential_id);  // the caller's, else not_found
  return m.authorization.begin(caller.user_id, credential_id);
}

DocumentStatus SignService::sign(SignTask request) {
  auto& m = *impl_;
  const auto& caller = request.caller;
  auto [d, pos] = m.task_of(caller.user_id, request.task_id);
  std::lock_guard turn(m.sign_mu[std::hash<std::string>{}(d.status.id) % m.sign_mu.size()]);
  if (auto fresh = m.load(m.db, d.status.id)) d = std::move(*fresh);
  check_ready(d, pos);
  const auto& profile = m.profile(d.status.profile);

  // The credential: the one named, else the signer's only enabled one.
  std::string credential_id = request.credential_id;
  if (credential_id.empty()) {
    std::vector<std::string> enabled;
    for (const auto& c : m.signing.credentials_of(caller)) {
      if (c.enabled) enabled.push_back(c.credential.id);
    }
    if (enabled.empty()) bad("you have no enabled signing credential");
    if (enabled.size() > 1) bad("you have several credentials: name one with credentialID");
    credential_id = enabled.front();
  }
  const auto attended = m.signing.credential(caller, credential_id);

  // What this signer signs: the current version (chained) or the original (detached), checked
  // against the digest the store recorded for it.
  const fs::path dir = m.dir_of(d.status.id);
  const fs::path input = dir / (d.status.detached ? d.original_file : d.current_file);
  const std::string expected = d.status.detached ? d.status.original_sha256 : d.status.current_sha256;
  const std::string bytes = files::read(input);
  const Bytes hash = ossl::digest(HashAlg::sha256, bytes);
  if (hex_encode(hash) != expected) {
    throw Error(Errc::internal, "signservice: " + input.string() + " no longer has the digest the store recorded");
  }

  signing::AuthorizedDocument job;
  job.doc.path = input;
  job.doc.name = d.status.name;
  job.req = profile.request;
  job.req.signing_time = m.clock.now();
  job.scheme = profile.scheme.value_or(attended.credential.default_scheme());
  const std::string output = (d.status.detached ? "s" + std::to_string(pos) + "-"
                                                 : "v" + std::to_string(d.status.version + 1) + "-") +
                             random_token(6) + extension(profile, false);
  job.out = dir / output;

  // The second factor, for exactly this version's hash, checked only once the document is prepared
  // (an unsignable document costs no PIN try and no one-time code); the SAD is spent at once.
  auth::CredentialAuthRequest ar;
  ar.user_id = caller.user_id;
  ar.credential_id = credential_id;
  ar.transaction_id = request.transaction_id;
  ar.pin = std::move(request.pin);
  ar.otp = std::move(request.otp);
  ar.num_signatures = 1;
  ar.hashes = {hash};
  ar.hash_alg = HashAlg::sha256;
  const auto authorize_and_spend = [&] {
    auto sad = m.authorization.authorize_credential(ar);
    ar.pin.clear();
    ar.otp.clear();
    auth::SadUse use;
    use.user_id = caller.user_id;
    use.credential_id = credential_id;
    use.hashes = {hash};
    use.hash_alg = HashAlg::sha256;
    (void)m.authorization.consume_sad(sad.value.view(), use);
  };
  // From here on a failure removes the signed file (unless the store says it became the document's).
  const auto discard_output = [&] {
    const auto now_stored = m.load(m.db, d.status.id);
    if (now_stored && static_cast<std::size_t>(pos) <= now_stored->output_files.size() &&
        now_stored->output_files[static_cast<std::size_t>(pos - 1)] == output) {
      return;  // the commit landed although it was reported as failed: the file is the document's now
    }
    std::error_code ec;
    fs::remove(job.out, ec);
  };
  try {
    const auto outcome = m.signing.sign_documents_authorized(caller, credential_id, {job}, authorize_and_spend).at(0);
    const std::string out_sha = sha256_hex(job.out);
    const int step = d.status.signers.at(static_cast<std::size_t>(pos - 1)).step;
    const auto now = static_cast<std::int64_t>(to_unix(m.clock.now()));
    std::vector<audit::Event> events;
    auto e = m.event("signservice.task.sign", caller, d);
    e.details["position"] = std::to_string(pos);
    e.details["credential_id"] = credential_id;
    e.details["level"] = std::string(level_name(outcome.level));
    e.details["input_digest"] = "sha256:" + expected;
    e.details["output_digest"] = "sha256:" + out_sha;
    events.push_back(std::move(e));
    const auto& leaf = attended.credential.leaf;
    m.audit.append_all_with(
        std::move(events),
        [&](store::Database& tx, std::vector<audit::Event>& records) {
          if (tx.exec("UPDATE signservice_signers SET state = 'signed', signed_at = $3, credential_id = $4, "
                      "certificate_subject = $5, certificate_sha256 = $6, level = $7, output_file = $8, "
                      "input_sha256 = $9, output_sha256 = $10 WHERE document_id = $1 AND position = $2 AND "
                      "state = 'ready'",
                      {d.status.id, std::int64_t{pos}, now, credential_id, leaf.subject, leaf.sha256_hex,
                       std::string(level_name(outcome.level)), output, expected, out_sha}) != 1) {
            wrong_state("the task was signed or closed meanwhile");
          }
          // Chained: this signature is over version N, so the document must still be at N (a
          // signer of the same step on another node may have signed first: sign again). Detached
          // signatures are all over the original: only the task's own state matters.
          const bool moved =
              d.status.detached
                  ? tx.exec("UPDATE signservice_documents SET version = version + 1 WHERE id = $1 AND "
                            "state = 'in_progress'",
                            {d.status.id}) != 1
                  : tx.exec("UPDATE signservice_documents SET version = version + 1, current_file = $3, "
                            "current_sha256 = $4 WHERE id = $1 AND state = 'in_progress' AND version = $2",
                            {d.status.id, d.status.version, output, out_sha}) != 1;
          if (moved) wrong_state("the document changed meanwhile; open the task again and sign the new version");
          // The step is done when all its signers have signed; then the next step opens, or the
          // document is complete.
          const auto open = tx.query_one("SELECT COUNT(*) FROM signservice_signers WHERE document_id = $1 AND "
                                         "step = $2 AND state <> 'signed'",
                                         {d.status.id, std::int64_t{step}});
          if (open->get_int(0) == 0) {
            const auto next = tx.query_one("SELECT MIN(step) FROM signservice_signers WHERE document_id = $1 AND "
                                           "state = 'waiting'",
                                           {d.status.id});
            if (next && !next->is_null(0)) {
              tx.exec("UPDATE signservice_signers SET state = 'ready' WHERE document_id = $1 AND step = $2 AND "
                      "state = 'waiting'",
                      {d.status.id, next->get_int(0)});
            } else {
              tx.exec("UPDATE signservice_documents SET state = 'completed', finished_at = $2 WHERE id = $1",
                      {d.status.id, now});
              records.push_back(m.event("signservice.document.complete", caller, d));
            }
          }
          m.queue_news(tx, d.status.id, d.webhook, &d.status);
        },
        m.db);
  } catch (...) {
    discard_output();
    throw;
  }
  return m.after_transition(d.status.id, d.webhook.has_value());
}

DocumentStatus SignService::decline(const signing::Caller& caller, const std::string& task_id,
                                    const std::string& reason) {
  auto& m = *impl_;
  if (reason.size() > kMaxReason) bad("reason: at most 500 characters");
  auto [d, pos] = m.task_of(caller.user_id, task_id);
  if (d.status.state != DocumentState::in_progress) {
    wrong_state("document '" + d.status.id + "' is " + std::string(to_string(d.status.state)));
  }
  const auto state = d.status.signers.at(static_cast<std::size_t>(pos - 1)).state;
  if (state != TaskState::ready && state != TaskState::waiting) {
    wrong_state("the task is " + std::string(to_string(state)));
  }
  const auto now = static_cast<std::int64_t>(to_unix(m.clock.now()));
  auto e = m.event("signservice.task.decline", caller, d);
  e.details["position"] = std::to_string(pos);
  if (!reason.empty()) e.details["reason"] = reason;
  m.audit.append_with(std::move(e),
                      [&](store::Database& tx, audit::Event&) {
                        if (tx.exec("UPDATE signservice_signers SET state = 'declined', signed_at = $3, reason = $4 "
                                    "WHERE document_id = $1 AND position = $2 AND state IN ('waiting', 'ready')",
                                    {d.status.id, std::int64_t{pos}, now, reason}) != 1 ||
                            tx.exec("UPDATE signservice_documents SET state = 'declined', finished_at = $2 WHERE id = $1 "
                                    "AND state = 'in_progress'",
                                    {d.status.id, now}) != 1) {
                          wrong_state("the document changed meanwhile");
                        }
                        tx.exec("UPDATE signservice_signers SET state = 'cancelled' WHERE document_id = $1 AND state "
                                "IN ('waiting', 'ready')",
                                {d.status.id});
                        m.queue_news(tx, d.status.id, d.webhook, &d.status);
                      },
                      m.db);
  return m.after_transition(d.status.id, d.webhook.has_value());
}

std::int64_t SignService::purge_expired() {
  auto& m = *impl_;
  if (m.options.retention.count() <= 0) return 0;
  const std::int64_t cutoff = to_unix(m.clock.now()) - m.options.retention.count();
  std::int64_t n = 0;
  for (const auto& r : m.db.query("SELECT id, name FROM signservice_documents WHERE state <> 'in_progress' AND "
                                  "finished_at < $1 ORDER BY finished_at LIMIT 1000",
                                  {cutoff})) {
    const std::string id = r.get_text("id");
    auto e = audit::system_event("signservice.document.purge");
    e.details["document_id"] = id;
    e.details["document_name"] = r.get_text("name");
    e.details["retention_days"] = std::to_string(m.options.retention.count() / 86400);
    try {
      m.audit.append_with(std::move(e),
                          [&](store::Database& tx, audit::Event&) {
                            tx.exec("DELETE FROM signservice_signers WHERE document_id = $1", {id});
                            if (tx.exec("DELETE FROM signservice_documents WHERE id = $1", {id}) != 1) {
                              throw Error(Errc::store_conflict, "document " + id + " was deleted meanwhile");
                            }
                          },
                          m.db);
    } catch (const Error& err) {
      if (err.code() != Errc::store_conflict) throw;
      continue;  // its owner deleted it meanwhile (and that was recorded)
    }
    std::error_code ec;
    fs::remove_all(m.dir_of(id), ec);
    ++n;
  }
  return n;
}

Verification SignService::verify(const std::string& user_id, const std::string& id) {
  return impl_->verify(impl_->visible(user_id, id));
}

namespace {

// The file's bytes when it is there and still has the digest the store recorded; read once, so the
// checks that follow use what was hashed.
std::optional<std::string> read_intact(const fs::path& path, const std::string& sha) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::string bytes = files::read(path);
  if (hex_encode(ossl::digest(HashAlg::sha256, bytes)) != sha) return std::nullopt;
  return bytes;
}

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// The CMS of a PAdES signature checked over its byte range; returns the signer certificate.
Bytes check_pades(const std::string& pdf, const pades::SignatureInfo& sig) {
  if (sig.byte_range.size() != 4) throw Error(Errc::invalid_document, "the signature has no ByteRange of 4 numbers", true);
  const auto [a, b, c, len] = std::array{sig.byte_range[0], sig.byte_range[1], sig.byte_range[2], sig.byte_range[3]};
  if (a != 0 || b > pdf.size() || c < b || c > pdf.size() || len > pdf.size() - c) {
    throw Error(Errc::invalid_document, "the signature's ByteRange does not fit the file", true);
  }
  Bytes covered;
  covered.reserve(b + len);
  covered.insert(covered.end(), pdf.begin(), pdf.begin() + static_cast<std::ptrdiff_t>(b));
  covered.insert(covered.end(), pdf.begin() + static_cast<std::ptrdiff_t>(c),
                 pdf.begin() + static_cast<std::ptrdiff_t>(c + len));
  Bytes der = sig.contents;
  const auto der_len = pades::detail::der_length(der);
  if (der_len > der.size()) throw Error(Errc::invalid_document, "the signature's /Contents is truncated", true);
  der.resize(der_len);
  cms::verify(der, covered);
  return pades::detail::inspect_cms(der).signer;
}

}  // namespace

Verification SignService::Impl::verify(Stored d) {
  Verification v;
  const fs::path dir = dir_of(d.status.id);
  const auto current = read_intact(dir / d.current_file, d.status.current_sha256);
  const auto original = read_intact(dir / d.original_file, d.status.original_sha256);
  v.current_intact = current.has_value();
  bool all = v.current_intact && original.has_value();
  const bool is_pdf = d.current_file.ends_with(".pdf");
  // Chained PDFs: each signer's version must be a byte prefix of the current one (incremental
  // updates), and its newest signature must lie beyond the previous version.
  std::size_t previous_size = 0;
  if (is_pdf) {
    std::error_code ec;
    previous_size = static_cast<std::size_t>(fs::file_size(dir / d.original_file, ec));
  }
  // In signing order: for chained PDFs each version is longer than the one before (signers of one
  // step sign in any order, so this is not always their listed order); reported as listed.
  std::vector<std::size_t> order;
  std::vector<std::uintmax_t> sizes(d.status.signers.size(), 0);
  for (std::size_t i = 0; i < d.status.signers.size(); ++i) {
    if (d.status.signers[i].state != TaskState::signed_ok) continue;
    order.push_back(i);
    std::error_code ec;
    const auto size = fs::file_size(dir / d.output_files[i], ec);
    sizes[i] = ec ? 0 : size;
  }
  if (is_pdf) std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return sizes[x] < sizes[y]; });
  std::map<int, Verification::Entry> entries;
  for (const std::size_t i : order) {
    const auto& s = d.status.signers[i];
    Verification::Entry e;
    e.position = s.position;
    e.username = s.username;
    e.credential_id = s.credential_id;
    e.certificate_subject = s.certificate_subject;
    e.level = s.level;
    e.signed_at = s.signed_at.value_or(0);
    e.input_sha256 = s.input_sha256;
    e.output_sha256 = s.output_sha256;
    const fs::path out = dir / d.output_files[i];
    const auto produced = read_intact(out, s.output_sha256);
    e.file_intact = produced.has_value();
    try {
      if (!e.file_intact) throw Error(Errc::invalid_document, "the file this signature produced is missing or altered", true);
      const std::string& bytes = *produced;
      Bytes signer_cert;
      if (is_pdf) {
        const pades::SignatureInfo* mine = nullptr;
        std::uint64_t mine_end = 0;
        const auto signatures = pades::list_signatures(out);
        for (const auto& sig : signatures) {
          if (sig.doc_timestamp || sig.byte_range.size() != 4) continue;
          const auto c = sig.byte_range[2], len = sig.byte_range[3];
          if (c > bytes.size() || len > bytes.size() - c) continue;  // does not fit this version
          if (c + len > mine_end) {
            mine = &sig;
            mine_end = c + len;
          }
        }
        if (mine == nullptr || mine_end <= previous_size) {
          throw Error(Errc::invalid_document, "the version this signer produced has no signature of theirs", true);
        }
        signer_cert = check_pades(bytes, *mine);
        if (!current || current->size() < bytes.size() || current->compare(0, bytes.size(), bytes) != 0) {
          throw Error(Errc::invalid_document, "the current version does not extend the version this signer produced",
                      true);
        }
        previous_size = bytes.size();
      } else {
        const Bytes cms = to_bytes(bytes);
        if (d.status.detached) {
          if (!original) throw Error(Errc::invalid_document, "the original is missing or altered", true);
          cms::verify(cms, to_bytes(*original));
        } else {
          cms::verify(cms);
        }
        signer_cert = pades::detail::inspect_cms(cms).signer;
      }
      if (hex_encode(ossl::digest(HashAlg::sha256, signer_cert)) != s.certificate_sha256) {
        throw Error(Errc::invalid_signature_value, "signed by another certificate than the signer's credential", true);
      }
      e.signature_valid = true;
    } catch (const Error& err) {
      e.detail = err.public_description();
    } catch (const std::exception&) {
      e.detail = "the signature could not be checked";
    }
    all = all && e.file_intact && e.signature_valid;
    entries.emplace(e.position, std::move(e));
  }
  for (auto& [position, entry] : entries) v.signatures.push_back(std::move(entry));
  v.document = std::move(d.status);
  v.valid = all;
  return v;
}

}  // namespace sigil::signservice
