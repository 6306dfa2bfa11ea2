#include "sigil/common/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/common/encoding.hpp"

namespace sigil::files {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw Error(Errc::io, what + " '" + path.string() + "': " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { int f = fd_; fd_ = -1; return f; }
 private:
  int fd_;
};

}  // namespace

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("cannot read", path);
  return std::move(ss).str();
}

void trim_line_end(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
}

std::string read_trimmed(const std::filesystem::path& path) {
  std::string text = read(path);
  trim_line_end(text);
  return text;
}

void write_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const auto tmp = dir / ("." + path.filename().string() + ".tmp-" + hex_encode(random_bytes(6)));
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.get() < 0) fail("cannot create", tmp);
    const char* p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
      const ssize_t n = ::write(fd.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        ::unlink(tmp.c_str());
        fail("cannot write", tmp);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), mode) != 0 || ::fsync(fd.get()) != 0) {
      ::unlink(tmp.c_str());
      fail("cannot sync", tmp);
    }
    if (::close(fd.release()) != 0) {
      ::unlink(tmp.c_str());
      fail("cannot close", tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot rename onto", path);
  }
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
}

void ensure_dir(const std::filesystem::path& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error(Errc::io, "cannot create directory '" + path.string() + "': " + ec.message());
  if (::chmod(path.c_str(), mode) != 0) fail("cannot chmod", path);
}

}  // namespace sigil::files
