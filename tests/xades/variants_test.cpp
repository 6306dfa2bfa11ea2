// Options beyond the packaging x level x key matrix, each checked by validate-xades at B-B (one
// batch of validator runs): binary enveloping, hash-only detached, a named parent element,
// inclusive C14N, SHA-384/512, the Facturae profile (EPES policy).
#include <gtest/gtest.h>

#include <string>

#include "env.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/xades/xades.hpp"
#include "test_util.hpp"

namespace sigil::xades {
namespace {

using test::XadesWorld;

const std::string kFacturaeLike =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<fe:Facturae xmlns:fe=\"http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml\">\n"
    "  <FileHeader><SchemaVersion>3.2.2</SchemaVersion><Modality>I</Modality></FileHeader>\n"
    "  <Parties><SellerParty><TaxIdentification><TaxIdentificationNumber>B00000000</TaxIdentificationNumber>"
    "</TaxIdentification></SellerParty></Parties>\n"
    "  <Invoices><Invoice><InvoiceHeader><InvoiceNumber>1</InvoiceNumber></InvoiceHeader></Invoice></Invoices>\n"
    "</fe:Facturae>\n";

XadesParams base(bool ec) {
  auto& w = XadesWorld::get();
  XadesParams p;
  p.signer = ec ? w.ec_certs : w.rsa_certs;
  p.scheme = ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
  return p;
}

TEST(XadesVariants, ValidatorAcceptsEveryVariant) {
  auto& w = XadesWorld::get();
  std::filesystem::create_directories(w.dir.path() / "variants");
  std::vector<XadesWorld::Check> checks;
  std::vector<std::string> names;
  auto add = [&](const std::string& name, const std::string& xml, const std::filesystem::path& detached = {}) {
    names.push_back(name);
    checks.push_back({w.write("variants/" + name + ".xml", xml), "B-B", detached});
  };

  {  // binary data enveloped in ds:Object as base64, covered through the base64 transform
    XadesParams p = base(true);
    p.packaging = Packaging::enveloping;
    p.enveloping_xml = false;
    p.mime_type = "application/pdf";
    std::string binary("%PDF-1.7\n\x00\x01\x02\xff binary \r\n", 24);
    add("enveloping-binary", sign(binary, p, *w.ec));
  }
  {  // hash-only detached: the server never sees the data
    const std::string data = "any bytes at all\n";
    XadesParams p = base(false);
    p.packaging = Packaging::detached;
    p.detached_name = "report.txt";
    p.detached_digest = ossl::digest(HashAlg::sha256, data);
    p.mime_type = "text/plain";
    std::filesystem::create_directories(w.dir.path() / "variants/hash-only");
    add("detached-hash-only", sign("", p, *w.rsa), w.write("variants/hash-only/report.txt", data));
  }
  {  // the signature goes into a named element, not the root
    XadesParams p = base(true);
    p.parent_local_name = "Signatures";
    p.parent_namespace = "urn:test:envelope";
    const std::string doc =
        "<e:Envelope xmlns:e=\"urn:test:envelope\"><e:Body>payload</e:Body><e:Signatures/></e:Envelope>";
    const std::string out = sign(doc, p, *w.ec);
    EXPECT_NE(out.find("<e:Signatures><ds:Signature"), std::string::npos);
    add("enveloped-named-parent", out);
  }
  {  // inclusive C14N with a default namespace in scope of the signature
    XadesParams p = base(false);
    p.c14n = C14n::inclusive;
    add("enveloped-inclusive", sign("<doc xmlns=\"urn:d\" xmlns:x=\"urn:x\"><x:a>1</x:a></doc>", p, *w.rsa));
  }
  {  // SHA-384 / SHA-512
    XadesParams p = base(true);
    p.digest_alg = HashAlg::sha384;
    add("ec-sha384", sign("<doc>384</doc>", p, *w.ec));
    XadesParams q = base(false);
    q.digest_alg = HashAlg::sha512;
    q.packaging = Packaging::enveloping;
    add("rsa-sha512", sign("<doc>512</doc>", q, *w.rsa));
  }
  {  // Facturae 3.1 preset: enveloped, EPES policy with the published SHA-1 policy hash
    XadesParams p = base(false);
    p.apply(profile_by_name("facturae-3.1"));
    p.claimed_roles = {"emisor"};
    const std::string out = sign(kFacturaeLike, p, *w.rsa);
    EXPECT_NE(out.find("<ds:DigestValue>Ohixl6upD6av8N7pEvDABhEL6hM=</ds:DigestValue>"), std::string::npos);
    EXPECT_NE(out.find("politica_de_firma_formato_facturae_v3_1.pdf</xades:Identifier>"), std::string::npos);
    add("facturae", out);
  }
  {  // a second enveloped signature would break the first: refused
    const std::string once = sign("<doc><v>twice</v></doc>", base(true), *w.ec);
    EXPECT_SIGIL_ERROR(prepare(once, base(false)), Errc::unsupported);
  }

  const auto results = w.check_all(checks);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (names[i] == "enveloped-named-parent") {
      // xmldsigjs's enveloped-signature transform only removes ds:Signature children of the root
      // (transforms/enveloped_signature.js), so xadesjs cannot verify a signature placed deeper;
      // xmlsec1 and the lxml re-check must still pass, and that must be the only failure.
      EXPECT_NE(results[i].output.find("PASS  sig.xmlsec1:"), std::string::npos) << results[i].output;
      EXPECT_NE(results[i].output.find("PASS  sig.signature-binding:"), std::string::npos) << results[i].output;
      EXPECT_NE(results[i].output.find("INVALID: " + checks[i].file.string() +
                                       ": sig.xadesjs: xadesjs: XMLJS0013: Cryptographic error: Invalid digest "
                                       "for uri ''"),
                std::string::npos)
          << results[i].output;
      EXPECT_EQ(results[i].output.find("(+"), std::string::npos) << results[i].output;
      continue;
    }
    EXPECT_EQ(results[i].exit_code, 0) << names[i] << "\n" << results[i].output;
  }
}

TEST(XadesVariants, ProfilesAndEcdsaLengths) {
  const XadesProfile f = facturae_profile(SignatureLevel::b_t);
  EXPECT_EQ(f.packaging, Packaging::enveloped);
  EXPECT_EQ(f.level, SignatureLevel::b_t);
  ASSERT_TRUE(f.policy.has_value());
  EXPECT_EQ(f.policy->hash.size(), 20u);
  EXPECT_EQ(profile_by_name("xades-detached").packaging, Packaging::detached);
  EXPECT_EQ(profile_by_name("xades-enveloping").packaging, Packaging::enveloping);
  // P-256 r||s is 64 bytes, base64 88 characters
  XadesParams p;
  p.signer = test::soft_signer(KeyType::ec).certs;
  const std::string out = sign("<d/>", p, *test::soft_signer(KeyType::ec).key);
  const auto at = out.find("-sigvalue\">") + 11;
  EXPECT_EQ(out.find("</ds:SignatureValue>", at) - at, 88u);
}

}  // namespace
}  // namespace sigil::xades
