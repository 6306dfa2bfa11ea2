#include <gtest/gtest.h>

#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

class SettingsTest : public StoreTest {};

TEST_F(SettingsTest, GetSetAndSetIfAbsent) {
  auto& s = store().settings();
  EXPECT_FALSE(s.get("initialised_at"));
  EXPECT_TRUE(s.set_if_absent("initialised_at", "2027-01-15T10:00:00Z"));
  EXPECT_FALSE(s.set_if_absent("initialised_at", "later"));
  EXPECT_EQ(s.get("initialised_at"), "2027-01-15T10:00:00Z");
  s.set("initialised_at", "replaced");
  EXPECT_EQ(s.get("initialised_at"), "replaced");
}

}  // namespace
}  // namespace sigil::store::test
