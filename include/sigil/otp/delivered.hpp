// Delivered one-time codes ("sms", "email", ... providers): a random 6-8 digit code bound to one
// transaction, stored only as an HMAC (table otp_challenges), sent through a Channel, single use and
// short-lived. A new challenge for the same transaction replaces the outstanding code.
#pragma once

#include <chrono>
#include <string>

#include "sigil/common/clock.hpp"
#include "sigil/otp/provider.hpp"
#include "sigil/otp/secret_box.hpp"
#include "sigil/store/database.hpp"

namespace sigil::otp {

struct DeliveredOptions {
  std::string name = "sms";              // provider name (what a credential's policy refers to)
  std::string channel = "file";          // a name in the ChannelRegistry
  unsigned digits = 6;                   // 6..8
  std::chrono::seconds ttl{300};
  std::string text = "Your Sigil signing code is {code}. It expires in {minutes} minutes.";
};

class DeliveredCodeProvider final : public Provider {
 public:
  // Everything passed by reference must outlive the provider. Error(invalid_argument) for digits
  // outside 6..8 or a zero ttl.
  DeliveredCodeProvider(store::Database& db, const Clock& clock, const SecretBox& box, const ChannelRegistry& channels,
                        DeliveredOptions options);

  std::string_view name() const noexcept override { return options_.name; }
  Challenge challenge(const Subject& subject, std::string_view transaction_id) override;
  VerifyResult verify(const Subject& subject, std::string_view transaction_id, const SecretString& code) override;

  // Deletes expired challenges; returns how many (call from a periodic job).
  std::int64_t purge_expired();

 private:
  store::Database& db_;
  const Clock& clock_;
  const SecretBox& box_;
  const ChannelRegistry& channels_;
  DeliveredOptions options_;
};

}  // namespace sigil::otp
