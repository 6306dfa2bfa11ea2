#include "rules.hpp"

#include <algorithm>
#include <array>

#include "sigil/common/error.hpp"

namespace sigil::admin {

std::string_view to_string(SecondFactor f) {
  switch (f) {
    case SecondFactor::none:
      return "none";
    case SecondFactor::pin:
      return "pin";
    case SecondFactor::otp:
      return "otp";
    case SecondFactor::pin_otp:
      return "pin_otp";
  }
  return "none";
}

SecondFactor parse_second_factor(std::string_view s) {
  for (const auto f : {SecondFactor::none, SecondFactor::pin, SecondFactor::otp, SecondFactor::pin_otp}) {
    if (to_string(f) == s) return f;
  }
  throw Error(Errc::invalid_argument, "unknown second factor '" + std::string(s) + "' (none, pin, otp, pin_otp)", true);
}

namespace detail {
namespace {

constexpr std::size_t kMaxLabel = 64;
constexpr std::array kHashes{HashAlg::sha256, HashAlg::sha384, HashAlg::sha512};

bool scheme_fits(SignatureScheme s, KeyType type) {
  return type == KeyType::ec ? s == SignatureScheme::ecdsa : s != SignatureScheme::ecdsa;
}

}  // namespace

void check_key_label(std::string_view label) {
  const bool ok_chars = std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (label.empty() || label.size() > kMaxLabel || !ok_chars) {
    throw Error(Errc::invalid_argument, "key label must be 1-64 characters of A-Z a-z 0-9 . _ -", true);
  }
}

std::vector<std::string> default_algorithms(KeyType type) {
  std::vector<std::string> out;
  const std::vector<SignatureScheme> schemes = type == KeyType::ec
                                                   ? std::vector{SignatureScheme::ecdsa}
                                                   : std::vector{SignatureScheme::rsa_pkcs1, SignatureScheme::rsa_pss};
  for (const auto scheme : schemes) {
    for (const auto hash : kHashes)
      out.push_back(std::string(scheme_name(scheme)) + "-" + std::string(hash_name(hash)));
  }
  return out;
}

std::vector<std::string> normalize_algorithms(const std::vector<std::string>& requested, KeyType type) {
  if (requested.empty()) return default_algorithms(type);
  std::vector<std::string> out;
  for (const auto& name : requested) {
    // The hash is the last dash-separated part ("rsa-pss-sha256" -> "rsa-pss" + "sha256"). Only the
    // canonical spelling is accepted, so stored names compare as plain strings later.
    const auto dash = name.rfind('-');
    bool ok = dash != std::string::npos;
    if (ok) {
      try {
        const auto scheme = parse_scheme(std::string_view(name).substr(0, dash));
        const auto hash = parse_hash(std::string_view(name).substr(dash + 1));
        ok = scheme_fits(scheme, type) && name == std::string(scheme_name(scheme)) + "-" + std::string(hash_name(hash));
      } catch (const Error&) {
        ok = false;
      }
    }
    if (!ok) {
      const auto allowed = default_algorithms(type);
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw Error(
          Errc::invalid_argument,
          "algorithm '" + name + "' is not valid for a " + (type == KeyType::ec ? "EC" : "RSA") + " key (" + list + ")",
          true);
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::string_view status_text(CredentialStatus s) {
  return s == CredentialStatus::active ? "active" : "disabled";
}

CredentialStatus parse_status(std::string_view s) {
  if (s == "active") return CredentialStatus::active;
  if (s == "disabled") return CredentialStatus::disabled;
  throw Error(Errc::internal, "store: unknown credential status '" + std::string(s) + "'");
}

}  // namespace detail
}  // namespace sigil::admin
