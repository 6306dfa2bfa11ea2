// AcroForm handling for the incremental writer: finding fields by their fully qualified name,
// filling an existing empty signature field or creating a new one (widget on a page), DocMDP.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pades/pdfa.hpp"
#include "pades/writer.hpp"
#include "sigil/pades/pades.hpp"

namespace sigil::pades::detail {

struct FieldNode {
  std::string name;  // fully qualified
  std::string ft;    // field type, inherited
  pdf::Ref ref;
  pdf::Object dict;
};

// Every named field node of the AcroForm (bounded walk).
std::vector<FieldNode> all_fields(pdf::Document& doc);

// The document's DocMDP permission (/Perms /DocMDP → /Reference → /TransformParams /P; 2 when /P
// is absent), 0 when the document is not certified.
int docmdp_level(pdf::Document& doc);

// A text string object: literal for printable ASCII, else UTF-16BE with a BOM.
pdf::Object text_string(std::string_view utf8);

struct SignatureSlot {
  std::string field_name;                 // empty → first free "<prefix>N"
  std::string default_prefix = "Signature";
  const Appearance* appearance = nullptr;  // nullptr → invisible
  std::vector<std::string> lines;          // for the appearance
  std::string sig_body;                    // from pdf::signature_dict_body
  // A document time-stamp (ISO 32000-2: DSS and document time-stamp updates are not changes in the
  // sense of DocMDP, so a certified document accepts them at every /P).
  bool doc_timestamp = false;
  int certification = 0;  // 1..3: the signature certifies the document (catalog /Perms /DocMDP)
  PdfaClaim pdfa;         // what the appearance must not break
};

// Adds the signature dictionary and the field/widget/AcroForm/page changes to `up`; returns the
// signature dictionary's object number. Enforces the certification of the document: P=1 refuses
// every new signature, P=2 one that would create a new field (only existing empty signature fields
// may be signed) with Error(document_locked); a certification signature on a document that already
// carries a signature → Error(invalid_argument).
std::uint32_t add_signature_objects(pdf::Document& doc, pdf::Update& up, const SignatureSlot& slot);

}  // namespace sigil::pades::detail
