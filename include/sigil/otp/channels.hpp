// The built-in delivery channels. Each throws Error(io) on failure with a detail that names the
// channel and the cause, never the code.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sigil/otp/provider.hpp"

namespace sigil::otp {

// `file`: appends one line per message to a file created 0600 (development and tests):
//   <unix-time> <transaction_id> <recipient> <code>
// The code IS written: never configure it in production.
class FileChannel final : public Channel {
 public:
  explicit FileChannel(std::filesystem::path path, std::string name = "file", std::string recipient_field = "username");
  std::string_view name() const noexcept override { return name_; }
  std::string_view recipient_field() const noexcept override { return recipient_field_; }
  void deliver(const Message& message) override;

 private:
  std::filesystem::path path_;
  std::string name_;
  std::string recipient_field_;
};

// `command`: fork/exec of `argv` (no shell). The code is passed in the environment variable
// SIGIL_OTP_CODE and on stdin (one line), never in argv; SIGIL_OTP_RECIPIENT, SIGIL_OTP_USER,
// SIGIL_OTP_TRANSACTION, SIGIL_OTP_EXPIRES_AT and SIGIL_OTP_TEXT are set too; the rest of the
// environment is cleared but PATH. Exit status 0 = delivered; killed after `timeout`.
struct CommandOptions {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::chrono::milliseconds timeout{10'000};
  std::string recipient_field = "mobile";
};
class CommandChannel final : public Channel {
 public:
  CommandChannel(CommandOptions options, std::string name = "command");
  std::string_view name() const noexcept override { return name_; }
  std::string_view recipient_field() const noexcept override { return options_.recipient_field; }
  void deliver(const Message& message) override;

 private:
  CommandOptions options_;
  std::string name_;
};

// `webhook`: POST application/json {"to","user","transaction_id","expires_at","code","text"} to an
// SMS/e-mail gateway; 2xx = delivered; connection errors and 5xx/429 are retried with exponential
// backoff (backoff, 2*backoff, ...), other statuses are not.
struct WebhookOptions {
  std::string url;                               // https:// (http:// only for loopback tests)
  std::map<std::string, std::string> headers;    // e.g. {"Authorization", "Bearer ..."} from a secret file
  std::chrono::milliseconds timeout{5'000};      // per attempt
  unsigned attempts = 3;
  std::chrono::milliseconds backoff{500};
  std::string ca_file;                           // empty: the system trust store
  std::string recipient_field = "mobile";
};
class WebhookChannel final : public Channel {
 public:
  WebhookChannel(WebhookOptions options, std::string name = "webhook");
  std::string_view name() const noexcept override { return name_; }
  std::string_view recipient_field() const noexcept override { return options_.recipient_field; }
  void deliver(const Message& message) override;

 private:
  WebhookOptions options_;
  std::string name_;
};

// `smtp`: one e-mail per code over libcurl (smtp:// with STARTTLS required, or smtps://).
struct SmtpOptions {
  std::string url;          // "smtps://mail.example.com:465" or "smtp://mail.example.com:587"
  std::string from;         // envelope and header From
  std::string subject = "Your signing code";
  std::string username;     // empty: no AUTH
  std::string password;     // from a secret file
  std::chrono::milliseconds timeout{10'000};
  std::string ca_file;
  bool require_tls = true;  // smtp:// must upgrade with STARTTLS
};
class SmtpChannel final : public Channel {
 public:
  SmtpChannel(SmtpOptions options, std::string name = "email");
  std::string_view name() const noexcept override { return name_; }
  std::string_view recipient_field() const noexcept override { return "email"; }
  void deliver(const Message& message) override;

 private:
  SmtpOptions options_;
  std::string name_;
};

}  // namespace sigil::otp
