// The streaming C14N of the enveloped fast path (SAX, no tree) must agree byte for byte with
// libxml2's tree C14N (the fallback path, taken when a parent element is named): same reference
// digest for tricky documents under inclusive and exclusive C14N.
#include <gtest/gtest.h>

#include <string>

#include "env.hpp"
#include "sigil/xades/xades.hpp"
#include "test_util.hpp"

namespace sigil::xades {
namespace {

using test::XadesWorld;

struct Doc {
  std::string xml;
  std::string root_ns;
  std::string root_local;
};

std::string reference_digest(const std::string& signed_xml) {
  const auto ref = signed_xml.find("-ref0\"");
  const auto at = signed_xml.find("<ds:DigestValue>", ref) + 16;
  return signed_xml.substr(at, signed_xml.find('<', at) - at);
}

TEST(XadesC14n, StreamingAgreesWithTreeC14n) {
  const auto& soft = test::soft_signer(KeyType::ec);
  const std::vector<Doc> docs = {
      {"<?xml version=\"1.0\"?>\n<?pi before?>\n<!-- c -->\n<r xmlns=\"urn:a\" xmlns:b=\"urn:b\">"
       "<b:x b:attr=\"1\" attr=\"&amp;&lt;&quot;&#9;&#10;&#13;&gt;'\" xmlns:c=\"urn:unused\">"
       "<y xmlns=\"\">t&#13;&gt;&amp;<![CDATA[<&>]]></y><z xmlns=\"urn:a\"/></b:x><?pi inside data?>\n"
       "</r>\n<?pi after?>\n<!-- trailing -->\n",
       "urn:a", "r"},
      {"<a:r xmlns:a=\"urn:a\"><a:s xmlns:a=\"urn:a2\"><a:t xmlns:a=\"urn:a\"/></a:s><a:u xmlns:a=\"urn:a\"/></a:r>",
       "urn:a", "r"},
      {"<r xmlns=\"urn:x\"><s xmlns=\"\"><t xmlns=\"urn:x\"/><u/></s></r>", "urn:x", "r"},
      {"<r xmlns:p=\"urn:p\" xmlns:q=\"urn:q\" q:a=\"1\" p:a=\"2\" a=\"3\"><p:e q:b=\"x\" xml:lang=\"es\"/></r>", "", "r"},
      {"<r>\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 tab\there  \n  lines\r\nCRLF</r>", "", "r"},
      {"\xef\xbb\xbf<r a=\"  spaced   value \"><empty/><empty></empty></r>", "", "r"},
  };
  for (const auto alg : {C14n::inclusive, C14n::exclusive}) {
    for (const auto& d : docs) {
      SCOPED_TRACE(d.xml);
      XadesParams fast;
      fast.signer = soft.certs;
      fast.c14n = alg;
      XadesParams tree = fast;
      tree.parent_local_name = d.root_local;
      tree.parent_namespace = d.root_ns;
      const std::string a = sign(d.xml, fast, *soft.key);
      const std::string b = sign(d.xml, tree, *soft.key);
      EXPECT_EQ(reference_digest(a), reference_digest(b)) << (alg == C14n::exclusive ? "exclusive" : "inclusive");
      // the fast path keeps the original bytes around the signature
      EXPECT_EQ(a.substr(0, a.find("<ds:Signature")), d.xml.substr(0, a.find("<ds:Signature")));
    }
  }
}

TEST(XadesC14n, FastPathValidates) {
  auto& w = XadesWorld::get();
  const std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r xmlns=\"urn:a\" xmlns:b=\"urn:b\">\n"
      "  <b:x attr=\"&amp;&lt;&#10;\">t&#13;<![CDATA[<&>]]></b:x>\n</r>\n<!-- trailing -->\n";
  std::vector<XadesWorld::Check> checks;
  for (const auto alg : {C14n::inclusive, C14n::exclusive}) {
    XadesParams p;
    p.signer = w.rsa_certs;
    p.scheme = SignatureScheme::rsa_pkcs1;
    p.c14n = alg;
    checks.push_back({w.write(alg == C14n::exclusive ? "fast-exc.xml" : "fast-inc.xml", sign(doc, p, *w.rsa)), "B-B", {}});
  }
  for (const auto& r : w.check_all(checks)) EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(XadesC14n, InclusiveUnderXmlAttributesIsRefused) {
  XadesParams p;
  p.signer = test::soft_signer(KeyType::ec).certs;
  p.c14n = C14n::inclusive;
  EXPECT_SIGIL_ERROR(prepare("<r xml:lang=\"es\"><a/></r>", p), Errc::unsupported);
  p.parent_local_name = "a";
  EXPECT_SIGIL_ERROR(prepare("<r xml:space=\"preserve\"><a/></r>", p), Errc::unsupported);
  p.c14n = C14n::exclusive;
  EXPECT_NO_THROW(prepare("<r xml:lang=\"es\"><a/></r>", p));
}

}  // namespace
}  // namespace sigil::xades
