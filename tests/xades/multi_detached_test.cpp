// One detached signature over several documents (XadesParams::detached_references, the DSS
// multiple-documents service): one ds:Reference and one DataObjectFormat per document, checked by
// the independent validator with every document given by name; a changed document fails; B-LTA
// needs every document's data (ExtendParams::detached_documents).
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

const std::string kFirst = "first document\n";
const std::string kSecond = "<second>document</second>";

XadesParams multi_params() {
  auto& w = XadesWorld::get();
  XadesParams p;
  p.packaging = Packaging::detached;
  p.signer = w.ec_certs;
  p.scheme = SignatureScheme::ecdsa;
  p.detached_references = {{"first.txt", ossl::digest(HashAlg::sha256, kFirst)},
                           {"second.xml", ossl::digest(HashAlg::sha256, kSecond)}};
  return p;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

test::CommandResult validate(const std::filesystem::path& file, const std::string& level,
                             const std::vector<std::filesystem::path>& detached) {
  auto& w = XadesWorld::get();
  std::string args = "--strict --level " + level + " --trust '" + w.pki->trust().string() + "' ";
  for (const auto& d : detached) args += "--detached '" + d.string() + "' ";
  return test::validate("validate-xades", args + "'" + file.string() + "'");
}

TEST(XadesMultiDetached, OneReferencePerDocumentThenLta) {
  auto& w = XadesWorld::get();
  const std::string xml = sign("", multi_params(), *w.ec);
  EXPECT_EQ(count(xml, "URI=\"first.txt\""), 1U);
  EXPECT_EQ(count(xml, "URI=\"second.xml\""), 1U);
  EXPECT_EQ(count(xml, "<xades:DataObjectFormat "), 2U);
  EXPECT_NE(xml.find("ObjectReference=\"#"), std::string::npos);

  std::filesystem::create_directories(w.dir.path() / "multi");
  const auto first = w.write("multi/first.txt", kFirst);
  const auto second = w.write("multi/second.xml", kSecond);
  const auto signed_file = w.write("multi/signed.xml", xml);
  const auto ok = validate(signed_file, "B-B", {first, second});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  std::filesystem::create_directories(w.dir.path() / "multi-changed");
  const auto changed = w.write("multi-changed/second.xml", kSecond + " ");
  EXPECT_EQ(validate(signed_file, "B-B", {first, changed}).exit_code, 1);

  ExtendParams ep;
  ep.detached_documents = {{"first.txt", kFirst}, {"second.xml", kSecond}};
  const std::string lta = extend(xml, SignatureLevel::b_lta, Sources{w.tsa.get(), w.revocation.get()}, ep);
  test::expect_valid(validate(w.write("multi/lta.xml", lta), "B-LTA", {first, second}), "B-LTA");

  ep.detached_documents.pop_back();  // the archive time-stamp cannot cover second.xml
  try {
    (void)extend(xml, SignatureLevel::b_lta, Sources{w.tsa.get(), w.revocation.get()}, ep);
    ADD_FAILURE() << "B-LTA without the data of second.xml";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(e.detail().find("second.xml"), std::string::npos) << e.detail();
  }
}

TEST(XadesMultiDetached, RefusesInconsistentReferences) {
  auto expect_invalid = [](const XadesParams& p, std::string_view document, const std::string& needle) {
    try {
      (void)prepare(document, p);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_argument) << e.detail();
      EXPECT_NE(e.detail().find(needle), std::string::npos) << e.detail();
    }
  };
  auto twice = multi_params();
  twice.detached_references[1].name = "first.txt";
  expect_invalid(twice, "", "first.txt");
  auto short_digest = multi_params();
  short_digest.detached_references[1].digest.resize(20);
  expect_invalid(short_digest, "", "wrong length");
  expect_invalid(multi_params(), "also a document", "replace the document");
  auto path = multi_params();
  path.detached_references[0].name = "../first.txt";
  expect_invalid(path, "", "plain relative file name");
  auto enveloping = multi_params();
  enveloping.packaging = Packaging::enveloping;
  expect_invalid(enveloping, "<a/>", "DETACHED");
}

}  // namespace
}  // namespace sigil::xades
