// Named XAdES presets a configuration can refer to.
#include <string>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/xades/xades.hpp"

namespace sigil::xades {

XadesProfile facturae_profile(SignatureLevel level) {
  XadesProfile p;
  p.name = "facturae-3.1";
  p.packaging = Packaging::enveloped;
  p.level = level;
  // Facturae verifiers in the field (FACe, AEAT tools) are built around inclusive C14N samples.
  p.c14n = C14n::inclusive;
  p.digest_alg = HashAlg::sha256;
  SignaturePolicy pol;
  pol.identifier =
      "http://www.facturae.es/politica_de_firma_formato_facturae/politica_de_firma_formato_facturae_v3_1.pdf";
  pol.description = "Politica de Firma FacturaE v3.1";
  // The published SHA-1 digest of the policy PDF: a reference to a document, not a signature
  // algorithm choice; re-hashing it with SHA-256 would need the PDF, whose published value is SHA-1.
  pol.hash_alg = PolicyHashAlg::sha1;
  pol.hash = base64_decode("Ohixl6upD6av8N7pEvDABhEL6hM=");
  p.policy = std::move(pol);
  return p;
}

XadesProfile profile_by_name(std::string_view name) {
  XadesProfile p;
  p.name = std::string(name);
  if (name == "xades-baseline" || name == "xades-enveloped") return p;
  if (name == "xades-enveloping") {
    p.packaging = Packaging::enveloping;
    return p;
  }
  if (name == "xades-detached") {
    p.packaging = Packaging::detached;
    return p;
  }
  if (name == "facturae-3.1" || name == "facturae") return facturae_profile();
  throw Error(Errc::invalid_argument, "unknown XAdES profile \"" + std::string(name) + "\"", true);
}

}  // namespace sigil::xades
