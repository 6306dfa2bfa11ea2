// Signing encrypted PDFs (Standard security handler, src/pades/crypt.*): every flavour qpdf writes
// (RC4-40 R2, RC4-128 R3, AES-128 R4, AES-256 R5/R6, object streams, restricted permissions), with
// the user and the owner password, B-B to B-LTA, checked by independent tools: validate-pades
// --strict for files with an empty user password (qpdf and pdfsig open them without a password);
// qpdf --password --check, qpdf --json and pdfsig -upw for files with a user password.
#include <gtest/gtest.h>

#include <fstream>

#include "pades/pades_fixture.hpp"

namespace sigil::test {
namespace {

namespace fs = std::filesystem;
using pades::PadesParams;
using Pw = std::shared_ptr<const SecretString>;

const fs::path& corpus() { return pades_corpus(); }

Pw pw(const std::string& s) {
  return std::make_shared<const SecretString>(s);
}

// A corpus file: `user` empty = empty user password (validate-pades can open it).
struct Case {
  std::string file, user, owner;
};
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"encrypted.pdf", "", "owner"},     {"enc-aes256-user.pdf", "user256", "owner256"},
      {"enc-aes128.pdf", "", "owner128"}, {"enc-rc4-128.pdf", "user-rc4", "owner-rc4"},
      {"enc-rc4-40.pdf", "", "owner40"},  {"enc-objstm.pdf", "", "ownerobj"},
      {"enc-r5.pdf", "", "owner5"},
  };
  return c;
}

// Document time-stamps checked without our reader and without qpdf: qpdf 11.3 (and so validate-pades)
// treats only /Type /Sig dictionaries as signatures and decrypts the /Contents of a /DocTimeStamp,
// which ISO 32000-2 §7.6.2 (and PDFBox, hence EU DSS) leave plain. This script finds each
// /ETSI.RFC3161 dictionary in the raw bytes, checks that the /ByteRange gap is exactly its hex
// /Contents, and verifies the token over the ByteRange bytes with `openssl ts -verify`.
constexpr const char* kVerifyDocTs = R"PY(
import re, subprocess, sys, tempfile, os
data = open(sys.argv[1], 'rb').read()
n = 0
for m in re.finditer(rb'/SubFilter\s*/ETSI\.RFC3161', data):
    br = re.search(rb'/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]', data[m.end():m.end() + 4096])
    a, b, c, d = map(int, br.groups())
    gap = data[b:c]
    assert a == 0 and c + d <= len(data) and re.fullmatch(rb'<[0-9A-Fa-f]+>', gap), 'bad ByteRange'
    tok = bytes.fromhex(gap[1:-1].decode())
    k = tok[1] & 0x7f
    length = 2 + tok[1] if tok[1] < 0x80 else 2 + k + int.from_bytes(tok[2:2 + k], 'big')
    with tempfile.TemporaryDirectory() as t:
        open(os.path.join(t, 'tok'), 'wb').write(tok[:length])
        open(os.path.join(t, 'data'), 'wb').write(data[:b] + data[c:c + d])
        r = subprocess.run(['openssl', 'ts', '-verify', '-token_in', '-in', os.path.join(t, 'tok'), '-data',
                            os.path.join(t, 'data'), '-CAfile', sys.argv[2], '-untrusted', sys.argv[3]],
                           capture_output=True, text=True)
        print(r.stdout.strip(), r.stderr.strip())
        assert 'Verification: OK' in r.stdout, 'token does not verify'
    n += 1
print('document time-stamps verified:', n)
sys.exit(0 if n > 0 else 1)
)PY";

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

class EncryptedTest : public PadesFixture {
 protected:
  static PadesParams params(const TestSigner& s, SignatureLevel level, Pw password) {
    PadesParams p = PadesFixture::params(s, level);
    p.password = std::move(password);
    return p;
  }

  // For a file with a user password (validate-pades cannot pass one): qpdf --check with the
  // password, our strings decrypted by qpdf, pdfsig -upw says every CAdES signature is valid, and the
  // file still needs the password.
  static void check_with_password(const fs::path& f, const std::string& user, std::size_t cades_sigs) {
    const std::string q = "qpdf --password='" + user + "' ";
    const auto chk = run_command(q + "--check '" + f.string() + "'");
    EXPECT_EQ(chk.exit_code, 0) << f << "\n" << chk.output;
    EXPECT_NE(chk.output.find("No syntax or stream encoding errors found"), std::string::npos) << chk.output;
    const auto json = run_command(q + "--json '" + f.string() + "'");
    EXPECT_EQ(json.exit_code, 0) << json.output.substr(0, 2000);
    EXPECT_NE(json.output.find("\"u:Approved\""), std::string::npos) << "the /Reason string does not decrypt";
    const auto sig = run_command("pdfsig -nocert -upw '" + user + "' '" + f.string() + "'");
    EXPECT_EQ(count(sig.output, "Signature is Valid"), cades_sigs) << f << "\n" << sig.output;
    const auto nopw = run_command("qpdf --check '" + f.string() + "'");
    EXPECT_NE(nopw.exit_code, 0) << "the output no longer needs the password\n" << nopw.output;
    EXPECT_NE(nopw.output.find("invalid password"), std::string::npos) << nopw.output;
  }

  // A copy with one signed byte changed (in the binary comment of line 2: the file stays readable).
  fs::path tampered(const fs::path& f) {
    std::string s = files::read(f);
    const auto at = s.find('%', 1);
    EXPECT_NE(at, std::string::npos);
    s[at + 2] = static_cast<char>(s[at + 2] ^ 0x01);
    const fs::path out = tmp_.path() / ("tampered-" + f.filename().string());
    std::ofstream(out, std::ios::binary | std::ios::trunc) << s;
    return out;
  }

  void check(const fs::path& out, const Case& c, SignatureLevel level, std::size_t cades_sigs = 1) {
    if (c.user.empty()) {
      const auto v = PadesFixture::check(out, level);
      EXPECT_EQ(v.exit_code, 0) << c.file << " " << level_name(level) << "\n" << v.output;
      const auto t = PadesFixture::check(tampered(out), level);
      EXPECT_EQ(t.exit_code, 1) << c.file << " tampered\n" << t.output;
      // Still encrypted with the same handler.
      const auto enc = run_command("qpdf --show-encryption '" + out.string() + "'");
      EXPECT_EQ(enc.output.find("File is not encrypted"), std::string::npos) << enc.output;
      const auto json = run_command("qpdf --json '" + out.string() + "'");
      EXPECT_NE(json.output.find("\"u:Approved\""), std::string::npos) << "the /Reason string does not decrypt";
    } else {
      check_with_password(out, c.user, cades_sigs);
      const auto t = run_command("pdfsig -nocert -upw '" + c.user + "' '" + tampered(out).string() + "'");
      EXPECT_EQ(count(t.output, "Signature is Valid"), 0u) << c.file << " tampered\n" << t.output;
    }
  }

  // B-LTA of an encrypted file: validate-pades --level B-LT on the revision before the document
  // time-stamp (the DSS included), the document time-stamp(s) with openssl (kVerifyDocTs).
  void check_lta(const fs::path& out, const Case& c) {
    const std::string s = files::read(out);
    const auto ts = s.rfind("/ETSI.RFC3161");
    ASSERT_NE(ts, std::string::npos);
    const auto eof = s.rfind("%%EOF", ts);
    ASSERT_NE(eof, std::string::npos);
    const fs::path prefix = tmp_.path() / ("before-ts-" + out.filename().string());
    std::ofstream(prefix, std::ios::binary | std::ios::trunc) << s.substr(0, eof + 6);
    if (c.user.empty()) {
      const auto v = PadesFixture::check(prefix, SignatureLevel::b_lt);
      EXPECT_EQ(v.exit_code, 0) << c.file << " up to the DSS revision\n" << v.output;
      const auto chk = run_command("qpdf --check '" + out.string() + "'");
      EXPECT_EQ(chk.exit_code, 0) << chk.output;
    } else {
      check_with_password(out, c.user, 1);
    }
    const fs::path script = tmp_.path() / "verify-doc-ts.py";
    std::ofstream(script, std::ios::trunc) << kVerifyDocTs;
    const auto& pki = CmsEnvironment::get().pki();
    const fs::path untrusted = tmp_.path() / "tsa-untrusted.pem";
    std::ofstream(untrusted, std::ios::trunc)
        << files::read(pki.dir() / "tsa-chain.pem") << files::read(pki.dir() / "inter-ca.pem");
    const auto r = run_command("/usr/bin/python3 '" + script.string() + "' '" + out.string() + "' '" +
                               pki.trust().string() + "' '" + untrusted.string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }

  TempDir tmp_;
};

TEST_F(EncryptedTest, EveryFlavourBbWithUserAndBtWithOwnerPassword) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.file);
    const std::string in = files::read(corpus() / c.file);
    // B-B with the user password (none at all for an empty one), B-T with the owner password.
    const fs::path bb = tmp_.path() / ("bb-" + c.file), bt = tmp_.path() / ("bt-" + c.file);
    pades::sign(corpus() / c.file, bb, params(ec(), SignatureLevel::b_b, c.user.empty() ? nullptr : pw(c.user)),
                *ec().key, services());
    pades::sign(corpus() / c.file, bt, params(rsa(), SignatureLevel::b_t, pw(c.owner)), *rsa().key, services());
    for (const auto& [out, level] : {std::pair{bb, SignatureLevel::b_b}, std::pair{bt, SignatureLevel::b_t}}) {
      const std::string o = files::read(out);
      EXPECT_EQ(o.compare(0, in.size(), in), 0) << "earlier bytes must stay identical";
      check(out, c, level);
      const Pw user = c.user.empty() ? nullptr : pw(c.user);
      const auto sigs = pades::list_signatures(out, user.get());
      ASSERT_EQ(sigs.size(), 1u);
      EXPECT_EQ(sigs[0].sub_filter, "ETSI.CAdES.detached");
    }
  }
}

TEST_F(EncryptedTest, LtAndLta) {
  // B-LT on RC4-40 (the DSS streams are RC4-encrypted), B-LTA on AES-256 with an empty user password
  // (validate-pades reads the encrypted DSS through qpdf) and with a user password (pdfsig).
  const std::vector<std::tuple<Case, SignatureLevel, bool>> runs = {
      {cases()[4], SignatureLevel::b_lt, false},
      {cases()[0], SignatureLevel::b_lta, true},
      {cases()[1], SignatureLevel::b_lta, false},
  };
  for (const auto& [c, level, owner] : runs) {
    SCOPED_TRACE(c.file);
    const fs::path out = tmp_.path() / ("lt-" + c.file);
    const Pw password = owner ? pw(c.owner) : (c.user.empty() ? nullptr : pw(c.user));
    pades::sign(corpus() / c.file, out, params(ec(), level, password), *ec().key, services());
    if (level == SignatureLevel::b_lta)
      check_lta(out, c);
    else
      check(out, c, level);
    const auto sigs = pades::list_signatures(out, password.get());
    EXPECT_EQ(sigs.size(), level == SignatureLevel::b_lta ? 2u : 1u);
    if (!c.user.empty()) {
      // The DSS streams decrypt and hold DER certificates (qpdf, independently of our reader).
      const auto j = run_command("qpdf --password='" + c.user +
                                 "' --json --json-stream-data=inline --decode-level=all '" + out.string() + "'");
      EXPECT_NE(j.output.find("\"/DSS\""), std::string::npos);
    }
  }
}

TEST_F(EncryptedTest, TwoPhaseLtNeedsThePasswordAgainInFinish) {
  const Case& c = cases()[3];  // RC4-128 with a user password
  const fs::path out = tmp_.path() / "two-phase.pdf";
  auto p = params(ec(), SignatureLevel::b_lt, pw(c.user));
  const auto prep = pades::prepare(corpus() / c.file, out, p);
  const Bytes sig = ec().key->sign_digest(ec().scheme, prep.digest_alg, prep.digest);
  // The state holds neither the password nor the key: finish() without it is refused, the hole untouched.
  const std::string state(prep.state.begin(), prep.state.end());
  EXPECT_EQ(state.find(c.user), std::string::npos);
  EXPECT_SIGIL_ERROR(pades::finish(prep.state, sig, services()), Errc::document_encrypted);
  const auto wrong = pw("not-it");
  EXPECT_SIGIL_ERROR(pades::finish(prep.state, sig, services(), wrong.get()), Errc::document_encrypted);
  pades::finish(prep.state, sig, services(), p.password.get());
  check_with_password(out, c.user, 1);
}

TEST_F(EncryptedTest, SecondSignerKeepsBothValid) {
  // Object streams, empty user password: the existing field "Approval" lives in an object stream
  // (its /T decrypted with the stream) and is rewritten as a top-level encrypted object.
  {
    const Case& c = cases()[5];
    const fs::path a = tmp_.path() / "objstm-1.pdf", b = tmp_.path() / "objstm-2.pdf";
    auto p1 = params(rsa(), SignatureLevel::b_b, nullptr);
    p1.field_name = "Approval";
    p1.appearance = pades::Appearance{};
    pades::sign(corpus() / c.file, a, p1, *rsa().key, services());
    auto p2 = params(ec(), SignatureLevel::b_t, pw(c.owner));
    pades::sign(a, b, p2, *ec().key, services());
    const auto sigs = pades::list_signatures(b);
    ASSERT_EQ(sigs.size(), 2u);
    EXPECT_EQ(sigs[0].field_name, "Approval");
    const auto v = PadesFixture::check(b, SignatureLevel::b_b);
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_NE(v.output.find("2 signature(s)"), std::string::npos) << v.output;
  }
  // RC4-128 with a user password: the field's /T is an RC4-encrypted top-level string.
  {
    const Case& c = cases()[3];
    const fs::path a = tmp_.path() / "rc4-1.pdf", b = tmp_.path() / "rc4-2.pdf";
    auto p1 = params(ec(), SignatureLevel::b_b, pw(c.user));
    p1.field_name = "Approval";
    pades::sign(corpus() / c.file, a, p1, *ec().key, services());
    auto p2 = params(rsa(), SignatureLevel::b_b, pw(c.owner));
    p2.appearance = pades::Appearance{};
    pades::sign(a, b, p2, *rsa().key, services());
    const auto u = pw(c.user);
    const auto sigs = pades::list_signatures(b, u.get());
    ASSERT_EQ(sigs.size(), 2u);
    EXPECT_EQ(sigs[0].field_name, "Approval");
    check_with_password(b, c.user, 2);
  }
}

TEST_F(EncryptedTest, ExtendAndDocumentTimestamp) {
  const Case& c = cases()[2];  // AES-128, empty user password
  const fs::path bt = tmp_.path() / "bt.pdf", lt = tmp_.path() / "lt.pdf", lta = tmp_.path() / "lta.pdf";
  pades::sign(corpus() / c.file, bt, params(ec(), SignatureLevel::b_t, nullptr), *ec().key, services());
  const auto owner = pw(c.owner);
  pades::extend(bt, lt, SignatureLevel::b_lt, services(), owner.get());
  check(lt, c, SignatureLevel::b_lt);
  pades::extend(lt, lta, SignatureLevel::b_lta, services());
  check_lta(lta, c);
  // A document time-stamp alone on a user-password file.
  const Case& u = cases()[1];
  const fs::path ts = tmp_.path() / "ts.pdf";
  const auto user = pw(u.user);
  pades::add_document_timestamp(corpus() / u.file, ts, CmsEnvironment::get().timestamper(), HashAlg::sha256,
                                user.get());
  const auto sigs = pades::list_signatures(ts, user.get());
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_TRUE(sigs[0].doc_timestamp);
  const auto chk = run_command("qpdf --password=" + u.user + " --check '" + ts.string() + "'");
  EXPECT_EQ(chk.exit_code, 0) << chk.output;
}

TEST_F(EncryptedTest, PasswordErrors) {
  const fs::path out = tmp_.path() / "x.pdf";
  for (const auto& c : cases()) {
    if (c.user.empty()) continue;
    SCOPED_TRACE(c.file);
    try {
      pades::prepare(corpus() / c.file, out, params(ec(), SignatureLevel::b_b, nullptr));
      ADD_FAILURE() << "opened without a password";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::document_encrypted);
      EXPECT_NE(e.detail().find("password is required"), std::string::npos) << e.detail();
    }
    const std::string wrong = "Wr0ng-Secret-" + c.user;
    try {
      pades::prepare(corpus() / c.file, out, params(ec(), SignatureLevel::b_b, pw(wrong)));
      ADD_FAILURE() << "opened with a wrong password";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::document_encrypted);
      EXPECT_NE(e.detail().find("password is wrong"), std::string::npos) << e.detail();
      EXPECT_EQ(e.detail().find(wrong), std::string::npos);
      EXPECT_EQ(e.public_description().find(wrong), std::string::npos);
    }
    EXPECT_SIGIL_ERROR(pades::list_signatures(corpus() / c.file), Errc::document_encrypted);
  }
  // Non-ASCII passwords: Latin-1 (PDFDocEncoding) for R4, UTF-8 for R6; both given as UTF-8.
  const auto umlaut = pw("Grüße");
  for (const char* f : {"enc-utf8-r4.pdf", "enc-utf8-r6.pdf"}) {
    EXPECT_NO_THROW(pades::list_signatures(corpus() / f, umlaut.get())) << f;
    EXPECT_SIGIL_ERROR(pades::list_signatures(corpus() / f), Errc::document_encrypted);
  }
  // A wrong password is refused even where the empty user password would open the file.
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "encrypted.pdf", out, params(ec(), SignatureLevel::b_b, pw("nope"))),
                     Errc::document_encrypted);
}

TEST_F(EncryptedTest, PermissionsForbidSigningWithTheUserPassword) {
  const fs::path out = tmp_.path() / "restricted.pdf";
  try {
    pades::prepare(corpus() / "enc-restricted.pdf", out, params(ec(), SignatureLevel::b_b, nullptr));
    ADD_FAILURE() << "signed a document whose permissions forbid it";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::document_locked);
    EXPECT_NE(e.detail().find("owner password"), std::string::npos) << e.detail();
  }
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "enc-restricted.pdf", out, params(ec(), SignatureLevel::b_b, pw(""))),
                     Errc::document_locked);
  pades::sign(corpus() / "enc-restricted.pdf", out, params(ec(), SignatureLevel::b_b, pw("ownerR")), *ec().key,
              services());
  const auto v = PadesFixture::check(out, SignatureLevel::b_b);
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST_F(EncryptedTest, UnsupportedAndCorruptEncryption) {
  const fs::path out = tmp_.path() / "x.pdf";
  try {
    pades::prepare(corpus() / "enc-pubsec.pdf", out, params(ec(), SignatureLevel::b_b, pw("x")));
    ADD_FAILURE() << "Adobe.PubSec accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::document_encrypted);
    EXPECT_NE(e.detail().find("not supported"), std::string::npos) << e.detail();
  }
  for (const char* f : {"enc-corrupt.pdf", "enc-dangling.pdf"}) {
    for (const Pw& p : {Pw{}, pw("owner")}) {
      try {
        pades::prepare(corpus() / f, out, params(ec(), SignatureLevel::b_b, p));
        ADD_FAILURE() << f << " accepted";
      } catch (const Error& e) {
        EXPECT_TRUE(e.code() == Errc::invalid_document || e.code() == Errc::document_encrypted)
            << f << ": " << e.info().name << ": " << e.detail();
      }
    }
  }
}

TEST_F(EncryptedTest, MutatedEncryptedInputsNeverCrash) {
  std::uint32_t seed = 4242;
  int handled = 0;
  for (const auto& c : cases()) handled += prepare_mutations(corpus() / c.file, params(ec(), SignatureLevel::b_b, pw(c.owner)), 30, seed);
  EXPECT_EQ(handled, 30 * static_cast<int>(cases().size()));
}

}  // namespace
}  // namespace sigil::test
