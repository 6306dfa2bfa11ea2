// Logging facade over spdlog: text or JSON lines, the current request id in every line.
//
// Secrets never reach this layer: callers log identifiers and digests, not PINs, passwords, OTPs
// or document bytes. The request id is thread-local: http sets a RequestScope around each handler.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace sigil::log {

enum class Format { text, json };

// Configures the default logger (stdout). `level` is spdlog's name: trace, debug, info, warn,
// error, critical, off. Throws Error(config_invalid) on an unknown level.
void init(std::string_view level, Format format);

// The request id attached to log lines written by this thread while the scope lives.
class RequestScope {
 public:
  explicit RequestScope(std::string request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

const std::string& current_request_id() noexcept;

using spdlog::critical;
using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace sigil::log
