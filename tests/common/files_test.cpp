#include "sigil/common/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sigil/common/error.hpp"
#include "temp_dir.hpp"

namespace sigil {
namespace {

TEST(Files, WriteAtomicReplacesContentAndAppliesMode) {
  test::TempDir dir;
  const auto p = dir.path() / "secret.txt";
  files::write_atomic(p, "one", 0600);
  files::write_atomic(p, "two", 0600);
  EXPECT_EQ(files::read(p), "two");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporary files are left behind.
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++n;
  EXPECT_EQ(n, 1);
}

TEST(Files, ReadMissingFileNamesThePath) {
  try {
    files::read("/nonexistent/sigil-test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_NE(e.detail().find("/nonexistent/sigil-test"), std::string::npos);
  }
}

TEST(Files, WriteIntoMissingDirectoryFailsCleanly) {
  EXPECT_THROW(files::write_atomic("/nonexistent/dir/x", "y"), Error);
}

}  // namespace
}  // namespace sigil
