// sigilctl sign — bulk signing with a named profile against a running sigild.
//
// Every input document goes to POST /api/v1/sign (the server signs it), or with --hash-only it is
// prepared here with libsigil's format engines and only its digest goes to the server
// (server-signing/sign-digest-with-signature-algo); the signature value is embedded here and the
// built-in TSA (POST /tsa) time-stamps B-T. Outputs are written atomically (a temporary file in
// the output directory, then a rename); an output that exists already is skipped (resume) unless
// --force. The exit status is 0 when no document failed, else the registry's code of the first
// failure in input order.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "api/dss/dto.hpp"
#include "cli/client.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/config/config.hpp"
#include "sigil/signing/documents.hpp"
#include "sigil/tsp/client.hpp"

namespace sigil::cli {
namespace fs = std::filesystem;
namespace {

struct SignOptions {
  std::string profile;
  std::vector<std::string> inputs;  // --in (directories or files) and the positional files
  std::string out;
  int concurrency = 4;
  bool force = false;
  bool hash_only = false;
  std::string pdf_password_file;  // the password of encrypted input PDFs (first line of the file)
  std::shared_ptr<const SecretString> pdf_password;
};

enum class Status { pending, signed_ok, skipped, failed };

std::string_view status_name(Status s) {
  switch (s) {
    case Status::signed_ok: return "signed";
    case Status::skipped: return "skipped";
    case Status::failed: return "failed";
    case Status::pending: break;
  }
  return "pending";
}

struct Job {
  fs::path in;
  fs::path out;
  std::string name;  // the input's file name, sent as the document name
  Status status = Status::pending;
  std::optional<Errc> code;
  std::string error;   // the server's error_description, or the local error
  std::string level;   // the level reached
  std::string digest;  // --hash-only: "sha256:<hex>", the only thing the server saw
  std::vector<std::string> warnings;
};

// The profile as GET /api/v1/profiles/{name} describes it.
struct ProfileInfo {
  nlohmann::json json;
  signing::Format format = signing::Format::pades;
  signing::Packaging packaging = signing::Packaging::enveloped;
};

signing::Format parse_format(const std::string& name) {
  if (name == "PAdES") return signing::Format::pades;
  if (name == "XAdES") return signing::Format::xades;
  if (name == "CAdES") return signing::Format::cades;
  throw Error(Errc::unsupported, "the server describes the profile with an unknown format '" + name + "'", true);
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The output's file name: PAdES and enveloped XAdES keep the name; CAdES adds .p7s (detached) or
// .p7m (enveloping); a detached XAdES signature is NAME.xades.xml; an enveloping one is XML (.xml
// is added unless the name has it).
std::string output_name(const std::string& name, signing::Format format, signing::Packaging packaging) {
  switch (format) {
    case signing::Format::pades: return name;
    case signing::Format::cades: return name + (packaging == signing::Packaging::detached ? ".p7s" : ".p7m");
    case signing::Format::xades:
      if (packaging == signing::Packaging::detached) return name + ".xades.xml";
      if (packaging == signing::Packaging::enveloping && !ends_with(name, ".xml")) return name + ".xml";
      return name;
  }
  return name;
}

std::string content_type(const ProfileInfo& p) {
  if (p.format == signing::Format::pades) return "application/pdf";
  if (p.format == signing::Format::xades && p.packaging == signing::Packaging::enveloped) return "application/xml";
  return "application/octet-stream";
}

// Regular, non-hidden files of a directory, sorted by name.
std::vector<fs::path> directory_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string().front() != '.') out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The jobs in input order; refuses duplicate names, an output directory that is also an input
// directory, and inputs that are neither files nor directories.
std::vector<Job> plan(const SignOptions& o, const ProfileInfo& profile) {
  const fs::path out_dir(o.out);
  std::error_code ec;
  fs::create_directories(out_dir, ec);  // an existing directory keeps its mode
  if (ec || !fs::is_directory(out_dir)) throw Error(Errc::io, "cannot create the output directory " + o.out, true);
  std::vector<fs::path> inputs;
  for (const auto& i : o.inputs) {
    const fs::path p(i);
    if (fs::is_directory(p)) {
      if (fs::equivalent(p, out_dir)) {
        throw Error(Errc::invalid_argument, "--out must not be an input directory (" + i + ")", true);
      }
      const auto listed = directory_files(p);
      inputs.insert(inputs.end(), listed.begin(), listed.end());
    } else if (fs::is_regular_file(p)) {
      inputs.push_back(p);
    } else {
      throw Error(Errc::invalid_argument, "no such file or directory: " + i, true);
    }
  }
  if (inputs.empty()) throw Error(Errc::invalid_argument, "no input documents", true);
  std::vector<Job> jobs;
  std::set<std::string> names;
  for (const auto& in : inputs) {
    Job j;
    j.in = in;
    j.name = in.filename().string();
    if (!names.insert(j.name).second) {
      throw Error(Errc::invalid_argument, "two inputs are named '" + j.name + "'; their outputs would collide", true);
    }
    j.out = out_dir / output_name(j.name, profile.format, profile.packaging);
    if (fs::exists(j.out) && fs::equivalent(j.out, j.in)) {
      throw Error(Errc::invalid_argument, "the output of " + in.string() + " would overwrite it", true);
    }
    if (!o.force && fs::exists(j.out)) j.status = Status::skipped;
    jobs.push_back(std::move(j));
  }
  return jobs;
}

// ---- hash-only: the document stays here, only its digest travels ----

pades::PadesParams pades_params(const nlohmann::json& j) {
  pades::PadesParams p;
  p.reason = j.value("reason", "");
  p.location = j.value("location", "");
  p.contact_info = j.value("contactInfo", "");
  p.field_name = j.value("fieldName", "");
  p.certification = j.value("certification", 0);
  if (j.contains("appearance")) {
    const auto& a = j.at("appearance");
    pades::Appearance ap;
    ap.page = a.value("page", 1u);
    ap.x = a.value("x", 36.0);
    ap.y = a.value("y", 36.0);
    ap.width = a.value("width", 200.0);
    ap.height = a.value("height", 60.0);
    ap.free_text = a.value("text", "");
    ap.y_from_top = a.value("fromTop", false);
    if (a.contains("lines")) ap.lines = a.at("lines").get<std::vector<std::string>>();
    // The profile's image and embedded font live on the server: a hash-only stamp is drawn locally
    // in Helvetica without the image.
    p.appearance = ap;
  }
  return p;
}

xades::PolicyHashAlg parse_policy_hash(const std::string& name) {
  if (name == "SHA1") return xades::PolicyHashAlg::sha1;
  if (name == "SHA384") return xades::PolicyHashAlg::sha384;
  if (name == "SHA512") return xades::PolicyHashAlg::sha512;
  return xades::PolicyHashAlg::sha256;
}

xades::XadesParams xades_params(const nlohmann::json& j) {
  xades::XadesParams x;
  x.c14n = j.value("c14n", "exclusive") == "inclusive" ? xades::C14n::inclusive : xades::C14n::exclusive;
  if (j.contains("commitmentType")) x.commitment_type = j.at("commitmentType").get<std::string>();
  if (j.contains("policy")) {
    const auto& p = j.at("policy");
    xades::SignaturePolicy policy;
    policy.identifier = p.value("identifier", "");
    policy.description = p.value("description", "");
    policy.hash_alg = parse_policy_hash(p.value("hashAlgorithm", "SHA256"));
    policy.hash = base64_decode(p.value("hash", ""));
    policy.uri = p.value("uri", "");
    x.policy = policy;
  }
  return x;
}

// The profile's DocumentRequest, rebuilt from its description (signing_time is set per document).
signing::DocumentRequest document_request(const ProfileInfo& p) {
  const auto& j = p.json;
  signing::DocumentRequest r;
  r.format = p.format;
  r.packaging = p.packaging;
  r.level = parse_level(j.at("level").get<std::string>());
  r.digest_alg = api::dss::parse_digest_algorithm(j.at("digestAlgorithm").get<std::string>());
  if (j.contains("commitmentType")) r.commitment_type = j.at("commitmentType").get<std::string>();
  if (j.contains("pades")) r.pades = pades_params(j.at("pades"));
  if (j.contains("xades")) r.xades = xades_params(j.at("xades"));
  return r;
}

SignerCerts signer_certs(const nlohmann::json& key_entry) {
  SignerCerts certs;
  certs.leaf = base64_decode(key_entry.at("certificate").at("encodedCertificate").get<std::string>());
  for (const auto& c : key_entry.at("certificateChain")) {
    Bytes der = base64_decode(c.at("encodedCertificate").get<std::string>());
    if (der != certs.leaf) certs.issuers.push_back(std::move(der));
  }
  return certs;
}

// Everything a worker needs to sign with digests only.
struct HashOnly {
  signing::DocumentRequest request;
  SignerCerts certs;
  api::dss::SignatureAlgorithm algorithm;
  std::string credential;
  SystemClock clock;
  std::unique_ptr<tsp::Client> tsa;  // B-T: the daemon's POST /tsa
  fs::path spool;                    // temporary files, on the output's file system
};

std::unique_ptr<HashOnly> hash_only_setup(ServiceClient& client, const ProfileInfo& p, const fs::path& out_dir) {
  auto h = std::make_unique<HashOnly>();
  h->request = document_request(p);
  if (h->request.level >= SignatureLevel::b_lt) {
    throw Error(Errc::unsupported,
                "profile '" + p.json.value("name", "") + "' signs at " + std::string(level_name(h->request.level)) +
                    ": --hash-only reaches B-B and B-T only (the revocation data of B-LT/B-LTA is collected by the "
                    "server); sign without --hash-only or use a B-B/B-T profile",
                true);
  }
  h->credential = p.json.at("credential").get<std::string>();
  h->algorithm = api::dss::parse_signature_algorithm(p.json.at("signatureAlgorithm").get<std::string>());
  h->certs = signer_certs(
      client.call_json("GET", "/services/rest/server-signing/key/" + path_segment(h->credential)));
  if (h->request.level == SignatureLevel::b_t) {
    tsp::ClientOptions o;
    // The daemon's TSA with the caller's credentials (tsa.builtin.require_auth): Basic or the API key.
    o.endpoints.push_back({client.base_url() + "/tsa", client.basic_user(), client.basic_password(), client.api_key()});
    o.tls_ca_file = client.cacert();
    h->tsa = std::make_unique<tsp::Client>(std::move(o), h->clock);
  }
  h->spool = out_dir / ".sigilctl-spool";
  files::ensure_dir(h->spool, 0700);
  return h;
}

void sign_hash_only(ServiceClient& client, HashOnly& h, signing::DocumentSigner& signer, Job& job) {
  signing::Document doc;
  doc.path = job.in;
  doc.name = job.name;
  signing::DocumentRequest req = h.request;
  req.signing_time = std::chrono::time_point_cast<std::chrono::seconds>(h.clock.now());
  auto prepared = signer.prepare_signature(doc, req, h.certs, h.algorithm.scheme);
  const auto& tbs = prepared.to_be_signed();
  job.digest = std::string(hash_name(tbs.digest_alg)) + ":" + hex_encode(tbs.digest);
  const nlohmann::json body = {{"algorithm", api::dss::digest_algorithm_name(tbs.digest_alg)},
                               {"value", base64_encode(tbs.digest)}};
  const auto answer = client.call_json(
      "POST", "/services/rest/server-signing/sign-digest-with-signature-algo/" + path_segment(h.credential) + "/" +
                  api::dss::signature_algorithm_name(h.algorithm),
      body);
  const Bytes value = base64_decode(answer.at("value").get<std::string>());
  const auto outcome = signer.finish_signature(prepared, value, job.out);
  job.level = std::string(level_name(outcome.level));
  job.warnings = outcome.warnings;
}

// ---- the server signs ----

void sign_remote(ServiceClient& client, const SignOptions& o, const ProfileInfo& info, Job& job) {
  const fs::path part =
      job.out.parent_path() / ("." + job.out.filename().string() + ".sigil-" + random_token(6) + ".part");
  const std::string path = "/api/v1/sign?profile=" + path_segment(o.profile) + "&name=" + path_segment(job.name);
  std::vector<std::string> headers;
  if (o.pdf_password) headers.push_back("X-Sigil-Pdf-Password: " + std::string(o.pdf_password->view()));
  try {
    const auto answer = client.upload(path, job.in, content_type(info), part, std::move(headers));
    for (const auto& [name, value] : answer.headers) {
      if (name == "x-sigil-signature-level") job.level = value;
      if (name == "x-sigil-warning") job.warnings.push_back(value);
    }
    fs::rename(part, job.out);
  } catch (...) {
    std::error_code ec;
    fs::remove(part, ec);
    throw;
  }
}

// ---- running the jobs ----

struct Progress {
  std::mutex mutex;
  std::size_t total = 0, done = 0, signed_count = 0, skipped = 0, failed = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool tty = false;

  void count(const Job& j) {
    std::lock_guard lock(mutex);
    ++done;
    if (j.status == Status::signed_ok) ++signed_count;
    if (j.status == Status::skipped) ++skipped;
    if (j.status == Status::failed) ++failed;
    if (tty) draw();
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  void draw() const {
    const double s = seconds();
    std::fprintf(stderr, "\rsigning: %zu/%zu done, %zu failed, %.1f files/s   ", done, total, failed,
                 s > 0 ? static_cast<double>(signed_count) / s : 0.0);
    std::fflush(stderr);
  }
};

void run_job(ServiceClient& client, const SignOptions& o, const ProfileInfo& info, HashOnly* h,
             signing::DocumentSigner* signer, Job& job) {
  try {
    if (h != nullptr) {
      sign_hash_only(client, *h, *signer, job);
    } else {
      sign_remote(client, o, info, job);
    }
    job.status = Status::signed_ok;
  } catch (const Error& e) {
    job.status = Status::failed;
    job.code = e.code();
    job.error = e.detail_is_public() ? e.detail() : e.public_description() + ": " + e.detail();
  } catch (const std::exception& e) {
    job.status = Status::failed;
    job.error = e.what();
  }
}

void run_all(ServiceClient& client, const SignOptions& o, const ProfileInfo& info, HashOnly* h,
             std::vector<Job>& jobs, Progress& progress) {
  std::atomic<std::size_t> next{0};
  const auto worker = [&] {
    std::optional<signing::DocumentSigner> signer;
    if (h != nullptr) signer.emplace(signing::Sources{h->tsa.get(), nullptr, false}, h->spool);
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      if (jobs[i].status == Status::pending) run_job(client, o, info, h, signer ? &*signer : nullptr, jobs[i]);
      progress.count(jobs[i]);
    }
  };
  const auto n = std::min<std::size_t>(static_cast<std::size_t>(o.concurrency), jobs.size());
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (progress.tty) std::fputc('\n', stderr);
}

nlohmann::json summary_json(const std::vector<Job>& jobs, const Progress& p, bool hash_only) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& j : jobs) {
    nlohmann::json f = {{"input", j.in.string()}, {"output", j.out.string()}, {"status", status_name(j.status)}};
    if (!j.level.empty()) f["level"] = j.level;
    if (!j.digest.empty()) f["digest"] = j.digest;
    if (!j.warnings.empty()) f["warnings"] = j.warnings;
    if (j.status == Status::failed) {
      f["error"] = j.error;
      f["code"] = j.code ? std::string(error_info(*j.code).name) : "internal";
    }
    files.push_back(std::move(f));
  }
  return nlohmann::json{{"signed", p.signed_count}, {"skipped", p.skipped}, {"failed", p.failed}, {"total", p.total},
          {"hash_only", hash_only}, {"seconds", p.seconds()}, {"files", files}};
}

std::string summary_text(const std::vector<Job>& jobs, const Progress& p) {
  std::ostringstream out;
  out << "signed " << p.signed_count << ", skipped " << p.skipped << " (output exists), failed " << p.failed
      << " of " << p.total << "\n";
  for (const auto& j : jobs) {
    if (j.status == Status::failed) out << "FAILED " << j.in.string() << ": " << j.error << "\n";
    for (const auto& w : j.warnings) out << "warning " << j.in.string() << ": " << w << "\n";
  }
  return out.str();
}

// 0 when nothing failed, else the exit code of the first failure in input order.
int exit_status(const std::vector<Job>& jobs) {
  for (const auto& j : jobs) {
    if (j.status == Status::failed) return j.code ? error_info(*j.code).exit_code : 1;
  }
  return 0;
}

int run(const GlobalOptions& g, SignOptions& o) {
  if (!o.pdf_password_file.empty()) {
    o.pdf_password = std::make_shared<const SecretString>(config::SecretRef{o.pdf_password_file, {}}.resolve());
  }
  ServiceClient client(g);
  // Fails early (before any document) on a wrong URL, bad credentials or an unknown profile.
  ProfileInfo info;
  info.json = client.call_json("GET", "/api/v1/profiles/" + path_segment(o.profile));
  info.format = parse_format(info.json.at("format").get<std::string>());
  info.packaging = signing::parse_packaging(info.json.at("packaging").get<std::string>());
  auto jobs = plan(o, info);
  std::unique_ptr<HashOnly> h;
  if (o.hash_only) {
    h = hash_only_setup(client, info, o.out);
    h->request.pades.password = o.pdf_password;
  }
  Progress progress;
  progress.total = jobs.size();
  progress.tty = ::isatty(STDERR_FILENO) != 0;
  run_all(client, o, info, h.get(), jobs, progress);
  if (h) {
    std::error_code ec;
    fs::remove(h->spool, ec);  // only when empty
  }
  print(g, summary_json(jobs, progress, o.hash_only), summary_text(jobs, progress));
  return exit_status(jobs);
}

}  // namespace

void register_sign(CLI::App& app, GlobalOptions& g, Action& action) {
  auto o = std::make_shared<SignOptions>();
  auto* sign = app.add_subcommand("sign", "Sign documents with a profile of a running sigild (bulk, resumable)");
  sign->add_option("--profile", o->profile, "Signing profile (GET /api/v1/profiles)")->required();
  sign->add_option("--in", o->inputs, "Input directory (its files) or file; repeatable");
  sign->add_option("files", o->inputs, "Input files");
  sign->add_option("--out", o->out, "Output directory (created when missing)")->required();
  sign->add_option("--concurrency", o->concurrency, "Documents signed in parallel (1-64)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sign->add_flag("--force", o->force, "Sign again when the output exists (default: skip it)");
  sign->add_flag("--hash-only", o->hash_only,
                 "Prepare each document here; only its digest goes to the server (B-B and B-T)");
  sign->add_option("--pdf-password-file", o->pdf_password_file,
                   "File whose first line is the password of encrypted input PDFs (user or owner password)");
  sign->callback([&g, &action, o] {
    if (o->inputs.empty()) throw CLI::ValidationError("sign", "no input: give --in DIR|FILE or FILE arguments");
    if (g.local) throw CLI::ValidationError("--local", "sign needs a running sigild; --local is not supported");
    action = [&g, o] { return run(g, *o); };
  });
}

}  // namespace sigil::cli
