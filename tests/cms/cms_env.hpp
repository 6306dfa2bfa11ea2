// Shared by the CMS and TSA test binaries: one SoftHSM token, one validator PKI (with its TSA and
// OCSP responder), signer keys and certificates, and test-only network sources:
//   * HttpTimestamper: RFC 3161 over HTTP (curl) against the PKI's TSA;
//   * PkiRevocationSource: OCSP (openssl ocsp) for certificates the intermediate issued, CRLs for
//     the intermediate itself (root.crl).
// They stand in for src/tsp and src/revocation until those land.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>

#include "sigil/asn1/der.hpp"
#include "sigil/cms/cades.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "softhsm_env.hpp"
#include "temp_dir.hpp"
#include "validator_pki.hpp"

namespace sigil::test {

inline std::string hash_oid(HashAlg a) {
  switch (a) {
    case HashAlg::sha256: return "2.16.840.1.101.3.4.2.1";
    case HashAlg::sha384: return "2.16.840.1.101.3.4.2.2";
    case HashAlg::sha512: return "2.16.840.1.101.3.4.2.3";
  }
  return {};
}

inline void write_file(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
inline Bytes read_file(const std::filesystem::path& p) {
  const std::string s = files::read(p);
  return Bytes(s.begin(), s.end());
}

// DER TimeStampReq (RFC 3161) with a nonce and certReq.
inline Bytes make_tsq(HashAlg alg, const Bytes& digest, const Bytes& nonce, bool cert_req = true,
                      const std::string& policy = "") {
  using namespace asn1;
  Bytes inner = concat({integer(1), sequence({sequence({oid(hash_oid(alg)), null()}), octet_string(digest)})});
  if (!policy.empty()) append(inner, oid(policy));
  append(inner, integer_from_unsigned(nonce));
  if (cert_req) append(inner, boolean(true));
  return tlv(tag::kSequence, inner);
}

// TimeStampResp -> (status, token or empty).
inline std::pair<std::uint64_t, Bytes> split_tsr(const Bytes& resp) {
  using namespace asn1;
  Reader top(resp);
  Reader r = top.enter(top.next(tag::kSequence, "TimeStampResp"));
  Reader st = r.enter(r.next(tag::kSequence, "PKIStatusInfo"));
  const auto status = read_uint(st.next(tag::kInteger, "status"));
  Bytes token;
  if (!r.done()) token = r.next(tag::kSequence, "token").raw_bytes();
  return {status, token};
}

class HttpTimestamper final : public Timestamper {
 public:
  HttpTimestamper(std::string url, std::filesystem::path dir) : url_(std::move(url)), dir_(std::move(dir)) {}
  Bytes timestamp(HashAlg alg, const Bytes& digest) override {
    std::lock_guard lock(mu_);
    const auto n = std::to_string(++count_);
    const auto q = dir_ / ("q" + n + ".tsq"), r = dir_ / ("r" + n + ".tsr");
    write_file(q, make_tsq(alg, digest, random_bytes(8)));
    const auto res = run_command("curl -sf --max-time 20 -H 'Content-Type: application/timestamp-query' --data-binary @'" +
                                 q.string() + "' -o '" + r.string() + "' '" + url_ + "'");
    if (res.exit_code != 0) throw Error(Errc::tsa_unavailable, "curl: " + res.output);
    const auto [status, token] = split_tsr(read_file(r));
    if (status > 1 || token.empty()) throw Error(Errc::tsa_response_invalid, "TSA refused");
    return token;
  }
  int count() const { return count_; }

 private:
  std::string url_;
  std::filesystem::path dir_;
  std::mutex mu_;
  int count_ = 0;
};

class PkiRevocationSource final : public RevocationSource {
 public:
  PkiRevocationSource(ValidatorPki& pki, std::filesystem::path dir) : pki_(pki), dir_(std::move(dir)) {}
  RevocationData collect(const std::vector<Bytes>& chain) override {
    std::lock_guard lock(mu_);
    RevocationData rd;
    const Bytes inter = pki_.inter_der(), root = pki_.root_der();
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      const auto n = std::to_string(++count_);
      if (chain[i + 1] == inter) {
        const auto c = dir_ / ("c" + n + ".pem"), o = dir_ / ("o" + n + ".der");
        std::ofstream(c) << ossl::der_to_pem(chain[i]);
        const auto res = run_command("openssl ocsp -issuer '" + (pki_.dir() / "inter-ca.pem").string() + "' -cert '" +
                                     c.string() + "' -url '" + pki_.ocsp_url() + "' -respout '" + o.string() +
                                     "' -noverify -timeout 20");
        if (res.exit_code != 0 || res.output.find(": good") == std::string::npos)
          throw Error(Errc::revocation_unavailable, "openssl ocsp: " + res.output);
        rd.ocsp_responses.push_back(read_file(o));
      } else if (chain[i + 1] == root) {
        const auto o = dir_ / ("crl" + n + ".crl");
        const auto res = run_command("curl -sf --max-time 20 -o '" + o.string() + "' 'http://127.0.0.1:" +
                                     std::to_string(pki_.ocsp_port()) + "/crl/root.crl'");
        if (res.exit_code != 0) throw Error(Errc::revocation_unavailable, "curl: " + res.output);
        Bytes crl = read_file(o);
        if (!crl.empty() && crl[0] != 0x30) crl = pem_crl_to_der(crl);
        rd.crls.push_back(crl);
      } else {
        throw Error(Errc::revocation_unavailable, "unknown issuer in chain");
      }
    }
    return rd;
  }
  int count() const { return count_; }

 private:
  static Bytes pem_crl_to_der(const Bytes& pem) {
    std::string s(pem.begin(), pem.end());
    const auto b = s.find("-----BEGIN X509 CRL-----"), e = s.find("-----END X509 CRL-----");
    if (b == std::string::npos || e == std::string::npos) throw Error(Errc::revocation_unavailable, "bad CRL");
    std::string body = s.substr(b + 24, e - b - 24);
    std::erase_if(body, [](char ch) { return ch == '\n' || ch == '\r'; });
    return base64_decode(body);
  }
  ValidatorPki& pki_;
  std::filesystem::path dir_;
  std::mutex mu_;
  int count_ = 0;
};

// One signer key + certificate per key type.
struct TestSigner {
  std::string name;  // "rsa-pkcs1", "rsa-pss", "ec-p256", "ec-p384"
  KeySigner* key = nullptr;
  SignerCerts certs;
  SignatureScheme scheme = SignatureScheme::ecdsa;
  HashAlg hash = HashAlg::sha256;
};

class CmsEnvironment : public ::testing::Environment {
 public:
  // with_rsa = false: EC keys only (RSA 3072 generation in SoftHSM takes seconds).
  explicit CmsEnvironment(bool with_rsa = true) : with_rsa_(with_rsa) {}
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    pki_ = std::make_unique<ValidatorPki>(dir_->path() / "pki");
    token_ = open_test_token();
    if (with_rsa_) token_->generate_key(KeySpec{KeyType::rsa, 3072}, "rsa");
    token_->generate_key(KeySpec{KeyType::ec, 256}, "p256");
    token_->generate_key(KeySpec{KeyType::ec, 384}, "p384");
    token_->generate_key(KeySpec{KeyType::ec, 256}, "tsa");
    for (const char* k : {"p256", "p384", "tsa"}) keys_[k] = token_->signer(k);
    if (with_rsa_) {
      keys_["rsa"] = token_->signer("rsa");
      const SignerCerts rsa = pki_->signer_certs(*keys_["rsa"], "CAdES RSA");
      signers_.push_back({"rsa-pkcs1", keys_["rsa"].get(), rsa, SignatureScheme::rsa_pkcs1, HashAlg::sha256});
      signers_.push_back({"rsa-pss", keys_["rsa"].get(), rsa, SignatureScheme::rsa_pss, HashAlg::sha384});
    }
    signers_.push_back({"ec-p256", keys_["p256"].get(), pki_->signer_certs(*keys_["p256"], "CAdES P-256"),
                        SignatureScheme::ecdsa, HashAlg::sha256});
    signers_.push_back({"ec-p384", keys_["p384"].get(), pki_->signer_certs(*keys_["p384"], "CAdES P-384"),
                        SignatureScheme::ecdsa, HashAlg::sha512});
    tsa_certs_ = SignerCerts{pki_->issue(*keys_["tsa"], "Sigil Built-in TSA", "tsa"), {pki_->inter_der(), pki_->root_der()}};
    std::filesystem::create_directories(dir_->path() / "net");
    timestamper_ = std::make_unique<HttpTimestamper>(pki_->tsa_url(), dir_->path() / "net");
    revocation_ = std::make_unique<PkiRevocationSource>(*pki_, dir_->path() / "net");
    instance_ = this;
  }
  void TearDown() override {
    instance_ = nullptr;
    revocation_.reset();
    timestamper_.reset();
    signers_.clear();
    keys_.clear();
    token_.reset();
    pki_.reset();
    dir_.reset();
  }
  static CmsEnvironment& get() { return *instance_; }

  ValidatorPki& pki() { return *pki_; }
  const std::filesystem::path& dir() const { return dir_->path(); }
  const std::vector<TestSigner>& signers() const { return signers_; }
  const TestSigner& signer(const std::string& name) const {
    for (const auto& s : signers_)
      if (s.name == name) return s;
    throw std::runtime_error("no signer " + name);
  }
  KeySigner& tsa_key() { return *keys_["tsa"]; }
  const SignerCerts& tsa_certs() const { return tsa_certs_; }
  HttpTimestamper& timestamper() { return *timestamper_; }
  PkiRevocationSource& revocation() { return *revocation_; }

 private:
  inline static CmsEnvironment* instance_ = nullptr;
  bool with_rsa_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ValidatorPki> pki_;
  std::unique_ptr<hsm::Token> token_;
  std::map<std::string, std::unique_ptr<KeySigner>> keys_;
  std::vector<TestSigner> signers_;
  SignerCerts tsa_certs_;
  std::unique_ptr<HttpTimestamper> timestamper_;
  std::unique_ptr<PkiRevocationSource> revocation_;
};

// Runs validate-cades; returns the result (exit code 0 = valid).
inline CommandResult validate_cades(const std::filesystem::path& file, SignatureLevel level,
                                    const std::optional<std::filesystem::path>& data = std::nullopt) {
  std::string args = "--strict --level " + std::string(level_name(level)) + " --trust '" +
                     CmsEnvironment::get().pki().trust().string() + "'";
  if (data) args += " --data '" + data->string() + "'";
  return validate("validate-cades", args + " '" + file.string() + "'");
}

}  // namespace sigil::test
