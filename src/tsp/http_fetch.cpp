#include "tsp/http_fetch.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "sigil/common/error.hpp"

namespace sigil::net {
namespace {

struct EasyDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw Error(Errc::internal, "curl_global_init failed");
  });
}

struct Sink {
  Bytes* body = nullptr;
  std::size_t limit = 0;
  bool overflow = false;
};

// C callback: never throws (a bad_alloc ends the transfer instead).
std::size_t write_cb(char* data, std::size_t size, std::size_t n, void* user) noexcept {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t len = size * n;
  if (sink->body->size() + len > sink->limit) {
    sink->overflow = true;
    return 0;  // aborts with CURLE_WRITE_ERROR
  }
  try {
    sink->body->insert(sink->body->end(), data, data + len);
  } catch (...) {
    return 0;
  }
  return len;
}

std::string media_type(const char* header) {
  if (header == nullptr) return {};
  std::string t(header);
  t = t.substr(0, t.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  const auto first = t.find_first_not_of(" \t");
  t = first == std::string::npos ? std::string() : t.substr(first);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t;
}

template <typename T>
void set(CURL* c, CURLoption opt, T value) {
  if (curl_easy_setopt(c, opt, value) != CURLE_OK) throw Error(Errc::internal, "curl_easy_setopt failed");
}

}  // namespace

bool acceptable_url(const std::string& url) {
  const auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  };
  const std::string u = lower(url.substr(0, 8));
  std::size_t host_start = 0;
  if (u.rfind("http://", 0) == 0) {
    host_start = 7;
  } else if (u.rfind("https://", 0) == 0) {
    host_start = 8;
  } else {
    return false;
  }
  const std::string rest = url.substr(host_start);
  const std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  return !authority.empty() && authority.find('@') == std::string::npos &&
         url.find_first_of(" \r\n\t") == std::string::npos;
}

HttpReply http_exchange(const HttpRequest& request) {
  global_init();
  if (!acceptable_url(request.url)) {
    throw Error(Errc::invalid_argument, "unsupported URL: http(s) only, without user:password@");  // not echoed
  }
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) throw Error(Errc::internal, "curl_easy_init failed");
  CURL* c = easy.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  HttpReply reply;
  Sink sink{&reply.body, request.max_reply_bytes};

  set(c, CURLOPT_ERRORBUFFER, errbuf);
  set(c, CURLOPT_URL, request.url.c_str());
  set(c, CURLOPT_PROTOCOLS_STR, "http,https");
  set(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(c, CURLOPT_FOLLOWLOCATION, 0L);
  set(c, CURLOPT_NOSIGNAL, 1L);  // multi-threaded process: no SIGALRM for DNS timeouts
  set(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  set(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
  set(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_reply_bytes));
  set(c, CURLOPT_WRITEFUNCTION, &write_cb);
  set(c, CURLOPT_WRITEDATA, &sink);
  set(c, CURLOPT_USERAGENT, "sigil");
  set(c, CURLOPT_PROXY, request.proxy ? request.proxy->c_str() : "");
  if (!request.ca_file.empty()) set(c, CURLOPT_CAINFO, request.ca_file.c_str());

  std::unique_ptr<curl_slist, ListDeleter> headers;
  const auto add_header = [&headers](const std::string& h) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (l == nullptr) throw Error(Errc::internal, "curl_slist_append failed");
    (void)headers.release();
    headers.reset(l);
  };
  add_header("Expect:");  // no 100-continue round trip
  if (!request.accept.empty()) add_header("Accept: " + request.accept);
  for (const auto& h : request.headers) {
    if (h.find_first_of("\r\n") != std::string::npos || h.find(':') == std::string::npos) {
      throw Error(Errc::invalid_argument, "malformed request header");
    }
    add_header(h);
  }
  if (request.post) {
    add_header("Content-Type: " + request.content_type);
    set(c, CURLOPT_POST, 1L);
    set(c, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(request.body.data()));
    set(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    set(c, CURLOPT_HTTPGET, 1L);
  }
  // The header list is libcurl's until the transfer ends; the copy is wiped after it.
  std::string bearer;
  if (request.bearer != nullptr && request.username.empty()) {
    bearer = "Authorization: Bearer " + std::string(request.bearer->view());
    add_header(bearer);
  }
  set(c, CURLOPT_HTTPHEADER, headers.get());
  struct WipeOnExit {
    std::string& s;
    ~WipeOnExit() { secure_wipe(s.data(), s.size()); }
  } wipe_bearer{bearer};

  // libcurl keeps its own copies of the credentials (freed, not wiped, by curl_easy_cleanup).
  std::string password;
  if (!request.username.empty()) {
    set(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    set(c, CURLOPT_USERNAME, request.username.c_str());
    if (request.password != nullptr) password.assign(request.password->view());
    set(c, CURLOPT_PASSWORD, password.c_str());
    secure_wipe(password.data(), password.size());
  }

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string why =
        sink.overflow || rc == CURLE_FILESIZE_EXCEEDED
            ? "reply larger than " + std::to_string(request.max_reply_bytes) + " bytes"
            : std::string(curl_easy_strerror(rc)) + (errbuf[0] != 0 ? std::string(" (") + errbuf + ")" : "");
    throw Error(Errc::io, request.url + ": " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  const char* ct = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
  reply.content_type = media_type(ct);
  return reply;
}

}  // namespace sigil::net
