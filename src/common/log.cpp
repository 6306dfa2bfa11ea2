#include "sigil/common/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <ctime>

#include "sigil/common/error.hpp"

namespace sigil::log {
namespace {

thread_local std::string t_request_id;

void append_json_escaped(spdlog::memory_buf_t& out, std::string_view s) {
  for (const char c : s) {
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
}

void append_timestamp(spdlog::memory_buf_t& out, spdlog::log_clock::time_point tp) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(tp);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp - secs).count();
  const std::time_t t = spdlog::log_clock::to_time_t(tp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

class Formatter final : public spdlog::formatter {
 public:
  explicit Formatter(Format format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (format_ == Format::json) {
      dest.append(std::string_view("{\"ts\":\""));
      append_timestamp(dest, msg.time);
      dest.append(std::string_view("\",\"level\":\""));
      dest.append(level);
      dest.append(std::string_view("\",\"logger\":\""));
      append_json_escaped(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
      dest.append(std::string_view("\""));
      if (!t_request_id.empty()) {
        dest.append(std::string_view(",\"request_id\":\""));
        append_json_escaped(dest, t_request_id);
        dest.append(std::string_view("\""));
      }
      dest.append(std::string_view(",\"msg\":\""));
      append_json_escaped(dest, text);
      dest.append(std::string_view("\"}\n"));
    } else {
      append_timestamp(dest, msg.time);
      fmt::format_to(std::back_inserter(dest), " {:<5} ", std::string_view(level.data(), level.size()));
      if (!t_request_id.empty()) fmt::format_to(std::back_inserter(dest), "[{}] ", t_request_id);
      dest.append(text);
      dest.push_back('\n');
    }
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<Formatter>(format_); }

 private:
  Format format_;
};

}  // namespace

void init(std::string_view level, Format format) {
  const auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    throw Error(Errc::config_invalid, "unknown log level '" + std::string(level) + "'", true);
  }
  auto logger = spdlog::default_logger();
  if (!logger || logger->name() != "sigil") {
    logger = std::make_shared<spdlog::logger>("sigil", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    spdlog::set_default_logger(logger);
  }
  logger->set_formatter(std::make_unique<Formatter>(format));
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
}

RequestScope::RequestScope(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

RequestScope::~RequestScope() { t_request_id = std::move(previous_); }

const std::string& current_request_id() noexcept { return t_request_id; }

}  // namespace sigil::log
