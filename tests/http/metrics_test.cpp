#include "sigil/http/metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <stdexcept>

#include "sigil/common/error.hpp"

namespace sigil::http {
namespace {

// sample line "name{labels} value" -> value, keyed by everything before the last space.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

TEST(Metrics, RendersCountersAndHistogram) {
  Metrics m;
  m.observe_request("/a/{id}", "GET", 200, 0.003);
  m.observe_request("/a/{id}", "GET", 200, 0.2);
  m.observe_request("/a/{id}", "POST", 500, 30.0);
  m.add_in_flight(2);
  m.add_connections(1);
  const auto text = m.render();
  EXPECT_NE(text.find("# TYPE sigil_http_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE sigil_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("# TYPE sigil_http_requests_in_flight gauge"), std::string::npos);

  const auto s = samples(text);
  EXPECT_EQ(s.at(R"(sigil_http_requests_total{route="/a/{id}",method="GET",status="200"})"), 2);
  EXPECT_EQ(s.at(R"(sigil_http_requests_total{route="/a/{id}",method="POST",status="500"})"), 1);
  EXPECT_EQ(s.at(R"(sigil_http_request_duration_seconds_bucket{route="/a/{id}",le="0.005"})"), 1);
  EXPECT_EQ(s.at(R"(sigil_http_request_duration_seconds_bucket{route="/a/{id}",le="0.25"})"), 2);
  EXPECT_EQ(s.at(R"(sigil_http_request_duration_seconds_bucket{route="/a/{id}",le="10"})"), 2);
  EXPECT_EQ(s.at(R"(sigil_http_request_duration_seconds_bucket{route="/a/{id}",le="+Inf"})"),
            s.at(R"(sigil_http_request_duration_seconds_count{route="/a/{id}"})"));
  EXPECT_EQ(s.at(R"(sigil_http_request_duration_seconds_count{route="/a/{id}"})"), 3);
  EXPECT_NEAR(s.at(R"(sigil_http_request_duration_seconds_sum{route="/a/{id}"})"), 30.203, 1e-9);
  EXPECT_EQ(s.at("sigil_http_requests_in_flight"), 2);
  EXPECT_EQ(s.at("sigil_http_connections_open"), 1);
}

TEST(Metrics, EscapesLabelValues) {
  Metrics m;
  m.observe_request("/q\"x\\y\n", "GET", 200, 0.1);
  EXPECT_NE(m.render().find(R"(route="/q\"x\\y\n")"), std::string::npos);
}

TEST(Metrics, ExtraGaugesCountersAndCallbacks) {
  Metrics m;
  m.set_gauge("sigil_hsm_sessions_idle", "Idle HSM sessions.", 5);
  m.set_gauge("sigil_hsm_sessions_idle", "Idle HSM sessions.", 7);
  m.add_counter("sigil_signatures_total", "Signatures made.");
  m.add_counter("sigil_signatures_total", "Signatures made.", 2);
  m.register_gauge("sigil_store_ok", "Store reachable.", [] { return 1.0; });
  m.register_gauge("sigil_broken", "Throws.", []() -> double { throw std::runtime_error("x"); });
  const auto text = m.render();
  const auto s = samples(text);
  EXPECT_EQ(s.at("sigil_hsm_sessions_idle"), 7);
  EXPECT_EQ(s.at("sigil_signatures_total"), 3);
  EXPECT_EQ(s.at("sigil_store_ok"), 1);
  EXPECT_EQ(s.count("sigil_broken"), 0u);
  EXPECT_NE(text.find("# TYPE sigil_signatures_total counter"), std::string::npos);
  EXPECT_THROW(m.set_gauge("bad name", "", 1), Error);
  EXPECT_THROW(m.set_gauge("9lives", "", 1), Error);
}

}  // namespace
}  // namespace sigil::http
