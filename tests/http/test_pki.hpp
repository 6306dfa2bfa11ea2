// Throwaway test PKI made with the OpenSSL API: a server CA + server leaf (SAN 127.0.0.1), a
// client CA + client leaf, and a client leaf from an untrusted CA. ECDSA P-256, valid one day.
#pragma once

#include <filesystem>

namespace sigil::http::test {

struct TestPki {
  std::filesystem::path server_ca, server_cert, server_key;
  std::filesystem::path client_ca, client_cert, client_key;
  std::filesystem::path rogue_cert, rogue_key;  // issued by a CA the server does not trust

  static TestPki generate(const std::filesystem::path& dir);
};

}  // namespace sigil::http::test
