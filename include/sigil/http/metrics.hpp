// A small thread-safe metrics registry rendered as Prometheus text format 0.0.4.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace sigil::http {

class Metrics {
 public:
  static constexpr std::array<double, 11> kDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                              0.5,   1.0,  2.5,   5.0,  10.0};

  // One finished request: sigil_http_requests_total{route,method,status} and the duration
  // histogram{route}. Callers pass the route *pattern* (bounded cardinality), never the path.
  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  void add_in_flight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  void add_connections(int delta) { connections_.fetch_add(delta, std::memory_order_relaxed); }
  long in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  long connections() const { return connections_.load(std::memory_order_relaxed); }

  // Extra metrics for other modules, without labels. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*
  // (Error(invalid_argument) otherwise) and not collide across kinds.
  void set_gauge(const std::string& name, const std::string& help, double value);
  void add_counter(const std::string& name, const std::string& help, double delta = 1.0);
  // Evaluated at each render, outside the registry lock; must be cheap and thread-safe.
  // A callback that throws is skipped for that scrape.
  void register_gauge(const std::string& name, const std::string& help, std::function<double()> read);

  std::string render() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kDurationBuckets.size()> buckets{};  // non-cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Extra {
    std::string help;
    bool counter = false;
    double value = 0;
    std::function<double()> read;  // set for callback gauges
  };
  Extra& extra_slot(const std::string& name, const std::string& help);

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::map<std::string, Extra> extras_;
  std::atomic<long> in_flight_{0};
  std::atomic<long> connections_{0};
};

}  // namespace sigil::http
