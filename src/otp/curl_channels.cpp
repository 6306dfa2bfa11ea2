// The two libcurl channels: webhook (JSON POST with retries) and SMTP.
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <thread>
#include <cstring>

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/otp/channels.hpp"

namespace sigil::otp {
namespace {

struct CurlFree {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Curl = std::unique_ptr<CURL, CurlFree>;
using Slist = std::unique_ptr<curl_slist, SlistFree>;

void init_curl_once() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  if (!done) throw Error(Errc::internal, "curl_global_init failed");
}

size_t discard(char*, size_t size, size_t nmemb, void*) noexcept { return size * nmemb; }

Slist append(Slist list, const std::string& line) {
  curl_slist* l = curl_slist_append(list.get(), line.c_str());
  if (l == nullptr) throw Error(Errc::internal, "curl_slist_append failed");
  (void)list.release();
  return Slist(l);
}

struct ReadState {
  const std::string* data;
  std::size_t offset = 0;
};
size_t read_body(char* buffer, size_t size, size_t nmemb, void* userp) noexcept {
  auto* s = static_cast<ReadState*>(userp);
  const std::size_t n = std::min(size * nmemb, s->data->size() - s->offset);
  std::memcpy(buffer, s->data->data() + s->offset, n);
  s->offset += n;
  return n;
}

bool is_header_safe(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

}  // namespace

WebhookChannel::WebhookChannel(WebhookOptions options, std::string name) : options_(std::move(options)), name_(std::move(name)) {
  if (!options_.url.starts_with("https://") && !options_.url.starts_with("http://")) {
    throw Error(Errc::config_invalid, "otp webhook channel: url must be http(s)://");
  }
  if (options_.attempts == 0) options_.attempts = 1;
  for (const auto& [k, v] : options_.headers) {
    if (!is_header_safe(k) || !is_header_safe(v) || k.find(':') != std::string::npos) {
      throw Error(Errc::config_invalid, "otp webhook channel: bad header " + k);
    }
  }
}

void WebhookChannel::deliver(const Message& m) {
  init_curl_once();
  std::string body = nlohmann::json{{"to", m.recipient},
                                    {"user", m.username},
                                    {"transaction_id", m.transaction_id},
                                    {"expires_at", m.expires_at},
                                    {"code", std::string(m.code.view())},
                                    {"text", m.text}}
                         .dump();
  std::string last_error;
  for (unsigned attempt = 1; attempt <= options_.attempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(options_.backoff * (1u << (attempt - 2)));
    Curl curl(curl_easy_init());
    if (!curl) throw Error(Errc::internal, "curl_easy_init failed");
    Slist headers = append(nullptr, "Content-Type: application/json");
    for (const auto& [k, v] : options_.headers) headers = append(std::move(headers), k + ": " + v);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      last_error = curl_easy_strerror(rc);
      log::warn("otp webhook {}: attempt {} failed: {}", name_, attempt, last_error);
      continue;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      secure_wipe(body.data(), body.size());
      return;
    }
    last_error = "HTTP status " + std::to_string(status);
    log::warn("otp webhook {}: attempt {} answered {}", name_, attempt, status);
    if (status != 429 && status < 500) break;  // the gateway refused the request: retrying will not help
  }
  secure_wipe(body.data(), body.size());
  throw Error(Errc::io, "otp webhook " + name_ + ": not delivered: " + last_error);
}

SmtpChannel::SmtpChannel(SmtpOptions options, std::string name) : options_(std::move(options)), name_(std::move(name)) {
  if (!options_.url.starts_with("smtp://") && !options_.url.starts_with("smtps://")) {
    throw Error(Errc::config_invalid, "otp smtp channel: url must be smtp:// or smtps://");
  }
  if (options_.from.empty() || !is_header_safe(options_.from) || !is_header_safe(options_.subject)) {
    throw Error(Errc::config_invalid, "otp smtp channel: bad from/subject");
  }
}

void SmtpChannel::deliver(const Message& m) {
  init_curl_once();
  if (!is_header_safe(m.recipient) || m.recipient.find('@') == std::string::npos) {
    throw Error(Errc::io, "otp smtp channel: recipient is not an e-mail address");
  }
  std::string mail = "From: <" + options_.from + ">\r\nTo: <" + m.recipient + ">\r\nSubject: " + options_.subject +
                     "\r\nContent-Type: text/plain; charset=utf-8\r\nAuto-Submitted: auto-generated\r\n\r\n" + m.text + "\r\n";
  ReadState state{&mail};
  Curl curl(curl_easy_init());
  if (!curl) throw Error(Errc::internal, "curl_easy_init failed");
  CURL* c = curl.get();
  Slist rcpt = append(nullptr, "<" + m.recipient + ">");
  const std::string from = "<" + options_.from + ">";
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
  curl_easy_setopt(c, CURLOPT_READDATA, &state);
  if (options_.require_tls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  const CURLcode rc = curl_easy_perform(c);
  secure_wipe(mail.data(), mail.size());
  if (rc != CURLE_OK) throw Error(Errc::io, "otp smtp channel " + name_ + ": " + curl_easy_strerror(rc));
}

}  // namespace sigil::otp
