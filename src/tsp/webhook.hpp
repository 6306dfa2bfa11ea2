// Outbound notifications (batch completion, Sign Service events): one JSON POST, signed when a
// secret is configured, so that the receiver can tell Sigil's notifications from anyone else's.
//
// Signature (docs/webhooks.md): the header
//   Sigil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// over the exact bytes of the body. The receiver recomputes it with the shared secret, compares in
// constant time and refuses a timestamp too far from its clock (replays).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sigil/common/secure.hpp"

namespace sigil::net {

// "t=<timestamp>,v1=<64 hex digits>".
std::string webhook_signature(std::string_view secret, std::int64_t timestamp, std::string_view body);

struct WebhookTarget {
  std::chrono::milliseconds timeout{5000};
  std::string ca_file;                        // https: trust anchors; empty: the system store
  std::shared_ptr<const SecretString> secret; // null or empty: unsigned
};

// One attempt: POST `body` (application/json) to `url`, with Sigil-Signature when the target has a
// secret (timestamped now). Throws Error(io) on a transport error or a non-2xx answer.
void post_webhook(const WebhookTarget& target, const std::string& url, const std::string& body);

}  // namespace sigil::net
