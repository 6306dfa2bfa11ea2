#include "sigil/otp/secret_box.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <array>
#include <fstream>
#include <iterator>
#include <memory>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::otp {
namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

SecretBox::SecretBox(std::span<const std::uint8_t> key) : key_(key.begin(), key.end()) {
  if (key_.size() != kKeyBytes) throw Error(Errc::invalid_argument, "auth key must be 32 bytes");
}

SecretBox::~SecretBox() { secure_wipe(key_.data(), key_.size()); }

SecretBox SecretBox::from_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(Errc::config_secret_missing, "auth key file " + path.string() + " not readable");
  if ((st.st_mode & 077) != 0) {
    throw Error(Errc::config_invalid, "auth key file " + path.string() + " is accessible by group or others (chmod 600)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::config_secret_missing, "auth key file " + path.string() + " not readable");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  struct WipedBytes {
    Bytes b;
    ~WipedBytes() { secure_wipe(b.data(), b.size()); }
  } wiped;
  Bytes& key = wiped.b;
  if (text.size() == kKeyBytes) {
    key.assign(text.begin(), text.end());
  } else {
    const std::string t = trim(text);
    try {
      key = t.size() == 2 * kKeyBytes ? hex_decode(t) : base64_decode(t);
    } catch (const Error&) {
      key.clear();
    }
  }
  secure_wipe(text.data(), text.size());
  if (key.size() != kKeyBytes) {
    throw Error(Errc::config_invalid, "auth key file " + path.string() + " does not hold 32 bytes (raw, hex or base64)");
  }
  return SecretBox(key);
}

Bytes SecretBox::generate_key() { return random_bytes(kKeyBytes); }

std::string SecretBox::seal(std::span<const std::uint8_t> plaintext, std::string_view aad) const {
  Bytes out = random_bytes(kNonceBytes);
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data() + kNonceBytes, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          out.data() + kNonceBytes + plaintext.size()) != 1) {
    throw Error(Errc::crypto, "AES-256-GCM seal failed");
  }
  return base64_encode(out);
}

Bytes SecretBox::open(std::string_view sealed, std::string_view aad) const {
  Bytes in;
  try {
    in = base64_decode(sealed);
  } catch (const Error&) {
    throw Error(Errc::crypto, "sealed secret is not base64");
  }
  if (in.size() < kNonceBytes + kTagBytes) throw Error(Errc::crypto, "sealed secret too short");
  const std::size_t n = in.size() - kNonceBytes - kTagBytes;
  Bytes out(n);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), in.data()) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, in.data() + kNonceBytes, static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), in.data() + kNonceBytes + n) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) == 1;
  if (!ok) {
    secure_wipe(out.data(), out.size());
    throw Error(Errc::crypto, "sealed secret does not open with this auth key");
  }
  return out;
}

std::string SecretBox::mac(std::string_view data) const {
  std::array<std::uint8_t, 32> md{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), md.data(), &len) == nullptr) {
    throw Error(Errc::crypto, "HMAC-SHA256 failed");
  }
  return hex_encode(md);
}

}  // namespace sigil::otp
