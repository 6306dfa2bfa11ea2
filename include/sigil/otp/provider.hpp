// The pluggable second factor: providers (how a code is produced and checked) and channels (how a
// delivered code reaches the user). Built-in and plugin providers sit behind the same interfaces.
//
// Codes never reach logs: they travel as SecretString and are compared in constant time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/secure.hpp"

namespace sigil::otp {

// Who a challenge is for (what a provider or channel may need to reach or identify the user).
struct Subject {
  std::string user_id;
  std::string username;
  std::optional<std::string> email;
  std::optional<std::string> mobile;
};

// What `challenge` did: for delivered codes, the channel used and when the code expires.
struct Challenge {
  bool delivered = false;
  std::string channel;                  // empty when nothing was sent (TOTP/HOTP)
  std::optional<std::int64_t> expires_at;  // Unix seconds
};

enum class VerifyResult {
  ok,
  invalid,       // wrong or malformed code
  replayed,      // right code, already used (TOTP step / HOTP counter / delivered code)
  expired,       // delivered code past its expiry
  no_challenge,  // nothing outstanding for this transaction (delivered codes)
  not_enrolled,  // the user has no enrolment with this provider
};
std::string_view to_string(VerifyResult r) noexcept;

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const noexcept = 0;
  // Starts a challenge bound to `transaction_id` (delivered codes: generate, store, deliver).
  // Throws Error(io) when delivery fails; Error(not_found) when the user cannot be reached.
  virtual Challenge challenge(const Subject& subject, std::string_view transaction_id) = 0;
  // Checks a code for the transaction; a successful code is consumed (single use).
  virtual VerifyResult verify(const Subject& subject, std::string_view transaction_id, const SecretString& code) = 0;
};

// A delivered code on its way to the user.
struct Message {
  std::string recipient;  // e-mail address or phone number, per the channel
  std::string user_id;
  std::string username;
  std::string transaction_id;
  std::int64_t expires_at = 0;
  SecretString code;
  std::string text;  // human text with the code in it ("Your Sigil code is 123456 ...")
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual std::string_view name() const noexcept = 0;
  // Which Subject field addresses the user: "email", "mobile" or "username".
  virtual std::string_view recipient_field() const noexcept { return "mobile"; }
  // Throws Error(io) on failure (detail without the code).
  virtual void deliver(const Message& message) = 0;
};

// Name → implementation; names are unique (Error(already_exists) on a duplicate).
template <class T>
class Registry {
 public:
  T& add(std::shared_ptr<T> item);
  T* find(std::string_view name) const noexcept;
  // Error(not_found) naming the missing entry.
  T& get(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::shared_ptr<T>, std::less<>> items_;
};
using ProviderRegistry = Registry<Provider>;
using ChannelRegistry = Registry<Channel>;

extern template class Registry<Provider>;
extern template class Registry<Channel>;

}  // namespace sigil::otp
