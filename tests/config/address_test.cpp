#include <gtest/gtest.h>

#include "sigil/config/config.hpp"

namespace sigil::config {
namespace {

TEST(Loopback, Accepts) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]", "0:0:0:0:0:0:0:1", "localhost",
                        "LocalHost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_address(a)) << a;
  }
}

TEST(Loopback, Rejects) {
  for (const char* a : {"", "0.0.0.0", "::", "[::]", "126.255.255.255", "128.0.0.1", "10.0.0.1", "192.168.1.1",
                        "::2", "fe80::1", "::ffff:10.0.0.1", "localhost.example.com", "127.0.0.1:80", "[::1",
                        "127.1", "127.0.0.1 ", "[127.0.0.1]", "sigil.local"}) {
    EXPECT_FALSE(is_loopback_address(a)) << a;
  }
}

}  // namespace
}  // namespace sigil::config
