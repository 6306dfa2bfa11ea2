// SecretRef::resolve: the one place a configured secret's value is read. Messages name the file
// or the variable, never the value, and every buffer that held the value is wiped.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/config/config.hpp"

namespace sigil::config {
namespace {

// A secret is one line: a PIN, a password or a libpq conninfo. Anything longer is a wrong file.
constexpr std::size_t kMaxSecretBytes = 4096;

// Copies into a heap-allocated string: a short string would sit in the object itself (SSO) and a
// move would leave an unwiped copy behind; a heap buffer is handed over, never copied.
SecretString make_secret(const char* data, std::size_t size) {
  std::string value;
  value.reserve(size < 32 ? 32 : size);
  value.assign(data, size);
  return SecretString(std::move(value));
}

[[noreturn]] void missing(std::string detail) {
  throw Error(Errc::config_secret_missing, std::move(detail), true);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A fixed buffer wiped on every exit path; fixed so that no reallocation leaves copies behind.
struct WipedBuffer {
  std::array<char, kMaxSecretBytes + 1> data{};
  ~WipedBuffer() { secure_wipe(data.data(), data.size()); }
};

SecretString from_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) missing("secret file '" + name + "' cannot be opened: " + std::strerror(errno));

  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    // Not refused: secrets mounted by orchestrators are often 0644 inside a private directory.
    log::warn("secret file '{}' is accessible by group or others; chmod 600 it", name);
  }

  WipedBuffer buf;
  std::size_t len = 0;
  // Read until the first newline, end of file, or the size limit.
  while (len < buf.data.size()) {
    const ssize_t n = ::read(fd.get(), buf.data.data() + len, buf.data.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) missing("secret file '" + name + "' cannot be read: " + std::strerror(errno));
    if (n == 0) break;
    const auto* nl = static_cast<const char*>(std::memchr(buf.data.data() + len, '\n', static_cast<std::size_t>(n)));
    len += static_cast<std::size_t>(n);
    if (nl != nullptr) {
      len = static_cast<std::size_t>(nl - buf.data.data());
      break;
    }
  }
  if (len > kMaxSecretBytes) {
    throw Error(Errc::config_invalid,
                "secret file '" + name + "': first line is longer than " + std::to_string(kMaxSecretBytes) + " bytes",
                true);
  }
  if (len > 0 && buf.data[len - 1] == '\r') --len;
  if (len == 0) missing("secret file '" + name + "' is empty");
  return make_secret(buf.data.data(), len);
}

SecretString from_env(const std::string& variable) {
  // The environment copy cannot be wiped from here; operators who care use files.
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr) missing("environment variable '" + variable + "' is not set");
  if (*value == '\0') missing("environment variable '" + variable + "' is empty");
  return make_secret(value, std::strlen(value));
}

}  // namespace

SecretString SecretRef::resolve() const {
  if (!file.empty() && !env.empty()) {
    throw Error(Errc::config_invalid, "a secret names both a file and an environment variable", true);
  }
  if (!file.empty()) return from_file(file);
  if (!env.empty()) return from_env(env);
  missing("no secret configured (set { file = \"...\" } or { env = \"...\" })");
}

}  // namespace sigil::config
