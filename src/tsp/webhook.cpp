#include "tsp/webhook.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <span>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "tsp/http_fetch.hpp"

namespace sigil::net {

std::string webhook_signature(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  const std::string t = std::to_string(timestamp);
  std::string message;
  message.reserve(t.size() + 1 + body.size());
  message.append(t).append(".").append(body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned len = 0;
  const bool ok = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &len) != nullptr;
  secure_wipe(message.data(), message.size());
  if (!ok) throw Error(Errc::crypto, "HMAC-SHA256 for a webhook signature failed");
  return "t=" + t + ",v1=" + hex_encode(std::span<const std::uint8_t>(mac.data(), len));
}

void post_webhook(const WebhookTarget& target, const std::string& url, const std::string& body) {
  HttpRequest r;
  r.url = url;
  r.post = true;
  r.body.assign(body.begin(), body.end());
  r.content_type = "application/json";
  r.timeout = target.timeout;
  r.max_reply_bytes = 64u << 10;
  r.ca_file = target.ca_file;
  if (target.secret && !target.secret->empty()) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    r.headers.push_back("Sigil-Signature: " + webhook_signature(target.secret->view(), now, body));
  }
  const auto reply = http_exchange(r);
  if (reply.status < 200 || reply.status >= 300) {
    throw Error(Errc::io, "webhook answered HTTP " + std::to_string(reply.status));
  }
}

}  // namespace sigil::net
