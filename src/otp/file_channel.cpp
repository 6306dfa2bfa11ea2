#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sigil/common/error.hpp"
#include "sigil/otp/channels.hpp"

namespace sigil::otp {

FileChannel::FileChannel(std::filesystem::path path, std::string name, std::string recipient_field)
    : path_(std::move(path)), name_(std::move(name)), recipient_field_(std::move(recipient_field)) {}

void FileChannel::deliver(const Message& m) {
  std::string line = std::to_string(m.expires_at) + " " + m.transaction_id + " " + m.recipient + " ";
  line.append(m.code.view());
  line.push_back('\n');
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    secure_wipe(line.data(), line.size());
    throw Error(Errc::io, "otp file channel: cannot open " + path_.string() + ": " + std::strerror(errno));
  }
  // One write() per line with O_APPEND: concurrent deliveries do not interleave.
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = errno;
  ::close(fd);
  const bool ok = n == static_cast<ssize_t>(line.size());
  secure_wipe(line.data(), line.size());
  if (!ok) throw Error(Errc::io, "otp file channel: short write to " + path_.string() + ": " + std::strerror(err));
}

}  // namespace sigil::otp
