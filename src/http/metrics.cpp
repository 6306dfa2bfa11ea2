#include "sigil/http/metrics.hpp"

#include <fmt/format.h>

#include <iterator>
#include <vector>

#include "sigil/common/error.hpp"

namespace sigil::http {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// Label values: backslash, double quote and newline are escaped (exposition format 0.0.4).
std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

// HELP text: backslash and newline are escaped.
std::string escape_help(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
}

}  // namespace

void Metrics::observe_request(std::string_view route, std::string_view method, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  auto& h = durations_[std::string(route)];
  for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
    if (seconds <= kDurationBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

Metrics::Extra& Metrics::extra_slot(const std::string& name, const std::string& help) {
  if (!valid_name(name)) {
    throw Error(Errc::invalid_argument, "invalid metric name '" + name + "'");
  }
  auto& slot = extras_[name];
  slot.help = help;
  return slot;
}

void Metrics::set_gauge(const std::string& name, const std::string& help, double value) {
  std::lock_guard lock(mu_);
  auto& slot = extra_slot(name, help);
  slot.counter = false;
  slot.read = nullptr;
  slot.value = value;
}

void Metrics::add_counter(const std::string& name, const std::string& help, double delta) {
  std::lock_guard lock(mu_);
  auto& slot = extra_slot(name, help);
  slot.counter = true;
  slot.read = nullptr;
  slot.value += delta;
}

void Metrics::register_gauge(const std::string& name, const std::string& help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  auto& slot = extra_slot(name, help);
  slot.counter = false;
  slot.read = std::move(read);
}

std::string Metrics::render() const {
  std::string out;
  std::map<std::string, Extra> extras;
  {
    std::lock_guard lock(mu_);
    header(out, "sigil_http_requests_total", "HTTP requests answered, by route pattern, method and status.", "counter");
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      fmt::format_to(std::back_inserter(out),
                     "sigil_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", escape_label(route),
                     escape_label(method), status, count);
    }
    header(out, "sigil_http_request_duration_seconds", "HTTP request duration from first byte to response sent.",
           "histogram");
    for (const auto& [route, h] : durations_) {
      const auto label = escape_label(route);
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        fmt::format_to(std::back_inserter(out),
                       "sigil_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", label,
                       kDurationBuckets[i], cumulative);
      }
      fmt::format_to(std::back_inserter(out),
                     "sigil_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n"
                     "sigil_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n"
                     "sigil_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                     label, h.count, label, h.sum, label, h.count);
    }
    extras = extras_;  // callbacks run below, without the lock
  }
  header(out, "sigil_http_requests_in_flight", "HTTP requests being read, handled or written.", "gauge");
  fmt::format_to(std::back_inserter(out), "sigil_http_requests_in_flight {}\n", in_flight());
  header(out, "sigil_http_connections_open", "Open client connections.", "gauge");
  fmt::format_to(std::back_inserter(out), "sigil_http_connections_open {}\n", connections());
  for (const auto& [name, extra] : extras) {
    double value = extra.value;
    if (extra.read) {
      try {
        value = extra.read();
      } catch (...) {
        continue;  // a failing probe must not break the whole scrape
      }
    }
    header(out, name, extra.help, extra.counter ? "counter" : "gauge");
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  }
  return out;
}

}  // namespace sigil::http
