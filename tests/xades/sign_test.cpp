// Every packaging x key type x level, checked by the independent validator (validate-xades:
// xadesjs, xmlsec1, lxml + python-cryptography); tampered copies must fail.
#include <gtest/gtest.h>

#include <string>

#include "env.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/error.hpp"
#include "sigil/xades/xades.hpp"
#include "test_util.hpp"

namespace sigil::xades {
namespace {

using test::XadesWorld;

// Namespaces, prefixes, whitespace, a CDATA section, attributes out of order: all must survive.
const std::string kInvoice =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<inv:invoice xmlns:inv=\"urn:test:invoice\" xmlns=\"urn:test:default\" b=\"2\" a=\"1\">\n"
    "  <inv:id>42</inv:id>\n"
    "\t<amount currency=\"EUR\">100.00</amount>\n"
    "  <note><![CDATA[a < b & c]]></note>\n"
    "  <!-- a comment -->\n"
    "  <line xml:lang=\"es\">Caf\xc3\xa9   con leche</line>\n"
    "</inv:invoice>\n";

struct Case {
  Packaging packaging;
  bool ec;
};

// extend() at a level already reached re-serialises without adding anything.
std::size_t xml_size_after_reserialise(const std::string& doc) { return extend(doc, SignatureLevel::b_b, {}).size(); }

std::string case_name(const ::testing::TestParamInfo<Case>& i) {
  const char* p = i.param.packaging == Packaging::enveloped    ? "enveloped"
                  : i.param.packaging == Packaging::enveloping ? "enveloping"
                                                               : "detached";
  return std::string(p) + (i.param.ec ? "_ec" : "_rsa");
}

class XadesMatrix : public ::testing::TestWithParam<Case> {
 protected:
  XadesParams params() const {
    auto& w = XadesWorld::get();
    XadesParams p;
    p.packaging = GetParam().packaging;
    p.signer = GetParam().ec ? w.ec_certs : w.rsa_certs;
    p.scheme = GetParam().ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
    p.detached_name = "invoice-data.xml";
    p.claimed_roles = {"supplier"};
    p.commitment_type = "http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin";
    return p;
  }
  KeySigner& key() const {
    auto& w = XadesWorld::get();
    return GetParam().ec ? *w.ec : *w.rsa;
  }
  std::string stem() const { return case_name({GetParam(), 0}); }
};

TEST_P(XadesMatrix, EveryLevelValidatesAndTamperingIsDetected) {
  auto& w = XadesWorld::get();
  const XadesParams p = params();
  const bool detached = p.packaging == Packaging::detached;
  std::filesystem::create_directories(w.dir.path() / stem() / "tampered");
  const auto data_file = detached ? w.write(stem() + "/invoice-data.xml", kInvoice) : std::filesystem::path();

  Sources src{w.tsa.get(), w.revocation.get()};
  const std::string bb = sign(kInvoice, p, key());
  if (p.packaging != Packaging::detached) {
    // the signed content keeps its bytes: whitespace, prefixes, CDATA
    EXPECT_NE(bb.find("<inv:id>42</inv:id>\n\t<amount currency=\"EUR\">100.00</amount>"), std::string::npos);
    EXPECT_NE(bb.find("<![CDATA[a < b & c]]>"), std::string::npos);
  }
  ExtendParams ep;
  if (detached) ep.detached_data = kInvoice;
  std::vector<XadesWorld::Check> checks;
  std::string doc = bb;
  for (SignatureLevel level : {SignatureLevel::b_b, SignatureLevel::b_t, SignatureLevel::b_lt, SignatureLevel::b_lta}) {
    if (level != SignatureLevel::b_b) doc = extend(doc, level, src, ep);
    const std::string lv(level_name(level));
    checks.push_back({w.write(stem() + "/" + lv + ".xml", doc), lv, data_file});
  }
  // extending again below B-LTA adds nothing
  EXPECT_EQ(extend(doc, SignatureLevel::b_lt, src, ep).size(), xml_size_after_reserialise(doc));

  // tampered signed data (expected INVALID)
  if (detached) {
    std::string other = kInvoice;
    other.replace(other.find("100.00"), 6, "900.00");
    checks.push_back({checks.front().file, "B-B", w.write(stem() + "/tampered/invoice-data.xml", other)});
  } else {
    std::string bad = doc;
    bad.replace(bad.find("100.00"), 6, "900.00");
    checks.push_back({w.write(stem() + "/tampered-data.xml", bad), "B-B", {}});
  }
  // tampered signed properties
  std::string bad = bb;
  const auto at = bad.find("supplier</xades:ClaimedRole>");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 8, "customer");
  checks.push_back({w.write(stem() + "/tampered-props.xml", bad), "B-B", data_file});

  const auto results = w.check_all(checks);
  for (std::size_t i = 0; i < 4; ++i) test::expect_valid(results[i], checks[i].level);
  for (std::size_t i = 4; i < results.size(); ++i) {
    EXPECT_EQ(results[i].exit_code, 1) << checks[i].file << "\n" << results[i].output;
  }
}

INSTANTIATE_TEST_SUITE_P(All, XadesMatrix,
                         ::testing::Values(Case{Packaging::enveloped, false}, Case{Packaging::enveloped, true},
                                           Case{Packaging::enveloping, false}, Case{Packaging::enveloping, true},
                                           Case{Packaging::detached, false}, Case{Packaging::detached, true}),
                         case_name);

}  // namespace
}  // namespace sigil::xades
