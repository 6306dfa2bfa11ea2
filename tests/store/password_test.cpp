// Argon2id password hashing.
#include <gtest/gtest.h>

#include "sigil/common/error.hpp"
#include "sigil/store/password.hpp"
#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

TEST(Password, HashIsArgon2idPhcWithRequestedParameters) {
  const std::string h = hash_password("correct horse", cheap_params());
  EXPECT_TRUE(is_argon2id_hash(h));
  EXPECT_TRUE(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << h;
  EXPECT_TRUE(verify_password_hash(h, "correct horse"));
  EXPECT_FALSE(verify_password_hash(h, "correct horsE"));
  EXPECT_FALSE(verify_password_hash(h, ""));
}

TEST(Password, SaltMakesEqualPasswordsHashDifferently) {
  EXPECT_NE(hash_password("same", cheap_params()), hash_password("same", cheap_params()));
}

TEST(Password, RejectsBadInput) {
  EXPECT_SIGIL_ERROR(hash_password("", cheap_params()), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(hash_password(std::string(kMaxPasswordBytes + 1, 'a'), cheap_params()), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(hash_password("pw", PasswordParams{0, 1024, 1}), Errc::invalid_argument);
  EXPECT_FALSE(verify_password_hash("not a hash", "pw"));
  EXPECT_FALSE(verify_password_hash("$argon2id$garbage", "pw"));
  EXPECT_FALSE(verify_password_hash("$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "pw"));
}

TEST(Password, DefaultsAreTheDocumentedCost) {
  const PasswordParams p;
  EXPECT_EQ(p.time_cost, 3u);
  EXPECT_EQ(p.memory_kib, 64u * 1024u);
  EXPECT_EQ(p.parallelism, 1u);
}

}  // namespace
}  // namespace sigil::store::test
