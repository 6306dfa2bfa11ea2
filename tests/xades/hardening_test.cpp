// The XML input path refuses what it must: DTDs and entities (XXE, billion laughs), oversize and
// over-deep documents, duplicate Ids; malformed input is invalid_document; two-phase misuse fails.
#include <gtest/gtest.h>

#include <string>

#include "env.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/error.hpp"
#include "sigil/xades/xades.hpp"
#include "test_util.hpp"

namespace sigil::xades {
namespace {

using test::soft_signer;

XadesParams ec_params() {
  XadesParams p;
  p.signer = soft_signer(KeyType::ec).certs;
  p.scheme = SignatureScheme::ecdsa;
  return p;
}

TEST(XadesHardening, DoctypeAndEntitiesAreForbidden) {
  const char* xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
  const char* external_dtd = "<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/evil.dtd\"><r/>";
  const char* parameter_entity =
      "<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/p.dtd\"> %p;]><r/>";
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  for (int i = 1; i < 10; ++i) {
    laughs += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) laughs += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    laughs += "\">";
  }
  laughs += "]><lolz>&lol9;</lolz>";
  const char* bare_doctype = "<!DOCTYPE r><r/>";
  for (const std::string& doc : {std::string(xxe), std::string(external_dtd), std::string(parameter_entity), laughs,
                                std::string(bare_doctype)}) {
    EXPECT_SIGIL_ERROR(check_document(doc), Errc::xml_forbidden);
    EXPECT_SIGIL_ERROR(prepare(doc, ec_params()), Errc::xml_forbidden);
    XadesParams env = ec_params();
    env.packaging = Packaging::enveloping;
    EXPECT_SIGIL_ERROR(prepare(doc, env), Errc::xml_forbidden);
    EXPECT_SIGIL_ERROR(extend(doc, SignatureLevel::b_t, {}), Errc::xml_forbidden);
  }
}

TEST(XadesHardening, MalformedIsInvalidDocument) {
  for (const char* doc : {"", "<r>", "<r></s>", "not xml", "<a/><b/>", "<r xmlns:p=\"\"><p:x/></r>"}) {
    SCOPED_TRACE(doc);
    EXPECT_SIGIL_ERROR(check_document(doc), Errc::invalid_document);
  }
}

TEST(XadesHardening, RelativeNamespaceUrisAreRefusedByBothPaths) {
  // C14N 1.0 cannot process relative namespace URIs: the streaming and the tree path agree.
  XadesParams p = ec_params();
  EXPECT_SIGIL_ERROR(prepare("<r xmlns:b=\"rel\"><b:a/></r>", p), Errc::invalid_document);
  p.parent_local_name = "r";
  EXPECT_SIGIL_ERROR(prepare("<r xmlns:b=\"rel\"><b:a/></r>", p), Errc::invalid_document);
}

TEST(XadesHardening, SizeAndDepthAreBounded) {
  Limits small;
  small.max_bytes = 64;
  EXPECT_SIGIL_ERROR(check_document("<r>" + std::string(100, 'x') + "</r>", small), Errc::document_too_large);
  Limits shallow;
  shallow.max_depth = 10;
  std::string deep;
  for (int i = 0; i < 11; ++i) deep += "<a>";
  for (int i = 0; i < 11; ++i) deep += "</a>";
  EXPECT_SIGIL_ERROR(check_document(deep, shallow), Errc::invalid_document);
  EXPECT_NO_THROW(check_document(deep.substr(3, deep.size() - 7), shallow));
  // libxml2's own limit (256 without XML_PARSE_HUGE) holds whatever the caller asks for
  Limits lax;
  lax.max_depth = 100000;
  std::string very_deep;
  for (int i = 0; i < 5000; ++i) very_deep += "<a>";
  for (int i = 0; i < 5000; ++i) very_deep += "</a>";
  EXPECT_SIGIL_ERROR(check_document(very_deep, lax), Errc::invalid_document);
}

TEST(XadesHardening, DuplicateIdsAreRefused) {
  EXPECT_SIGIL_ERROR(check_document("<r><a Id=\"x\"/><b Id=\"x\"/></r>"), Errc::xml_forbidden);
  EXPECT_SIGIL_ERROR(check_document("<r><a ID=\"x\"/><b id=\"x\"/></r>"), Errc::xml_forbidden);
  EXPECT_SIGIL_ERROR(prepare("<r><a Id=\"x\"/><b Id=\"x\"/></r>", ec_params()), Errc::xml_forbidden);
  // Signature wrapping: a second element carrying the SignedProperties' Id.
  const std::string signed_xml = sign("<doc><v>1</v></doc>", ec_params(), *soft_signer(KeyType::ec).key);
  const auto id_at = signed_xml.find("Id=\"id-");
  const auto id_end = signed_xml.find('"', id_at + 4);
  const std::string sig_id = signed_xml.substr(id_at + 4, id_end - id_at - 4);
  std::string wrapped = signed_xml;
  wrapped.replace(wrapped.find("<v>1</v>"), 8, "<v>1</v><w Id=\"" + sig_id + "-signedprops\"/>");
  EXPECT_SIGIL_ERROR(extend(wrapped, SignatureLevel::b_t, {}), Errc::xml_forbidden);
}

TEST(XadesHardening, TwoPhaseMisuse) {
  const Prepared prep = prepare("<doc/>", ec_params());
  // a signature by another key
  const Bytes wrong = soft_signer(KeyType::rsa).key->sign_digest(SignatureScheme::rsa_pkcs1, prep.digest_alg, prep.digest);
  EXPECT_SIGIL_ERROR(finish(prep.state, wrong), Errc::invalid_signature_value);
  EXPECT_SIGIL_ERROR(finish(prep.state, Bytes(64, 0)), Errc::invalid_signature_value);
  Bytes corrupt = prep.state;
  corrupt.resize(corrupt.size() / 2);
  EXPECT_SIGIL_ERROR(finish(corrupt, wrong), Errc::invalid_signing_state);
  EXPECT_SIGIL_ERROR(finish(Bytes{1, 2, 3}, wrong), Errc::invalid_signing_state);
  // ECDSA in DER is accepted as well as r||s; the output carries r||s
  const Bytes der = soft_signer(KeyType::ec).key->sign_digest(SignatureScheme::ecdsa, prep.digest_alg, prep.digest, false);
  const std::string out = finish(prep.state, der);
  EXPECT_NE(out.find("SignatureValue"), std::string::npos);
  // data_to_be_signed is what the digest covers
  EXPECT_EQ(ossl::digest(prep.digest_alg, prep.data_to_be_signed), prep.digest);
  EXPECT_EQ(std::string(prep.data_to_be_signed.begin(), prep.data_to_be_signed.begin() + 14), "<ds:SignedInfo");
}

TEST(XadesHardening, ParameterChecks) {
  XadesParams p = ec_params();
  p.scheme = SignatureScheme::rsa_pkcs1;
  EXPECT_SIGIL_ERROR(prepare("<d/>", p), Errc::invalid_argument);
  p.scheme = SignatureScheme::rsa_pss;
  EXPECT_SIGIL_ERROR(prepare("<d/>", p), Errc::unsupported);
  p = ec_params();
  p.packaging = Packaging::detached;
  p.detached_name = "../etc/passwd";
  EXPECT_SIGIL_ERROR(prepare("data", p), Errc::invalid_argument);
  p.detached_name = "a.bin";
  p.detached_digest = Bytes(5, 0);
  EXPECT_SIGIL_ERROR(prepare("", p), Errc::invalid_argument);
  p = ec_params();
  p.parent_local_name = "missing";
  EXPECT_SIGIL_ERROR(prepare("<d/>", p), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(profile_by_name("nope"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(extend("<d/>", SignatureLevel::b_t, {}), Errc::invalid_document);
}

}  // namespace
}  // namespace sigil::xades
