// AcroForm handling for the incremental writer: finding fields by their fully qualified name,
// filling an existing empty signature field or creating a new one (widget on a page), DocMDP.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

// Throws Error(document_locked) when a DocMDP certification signature with /P 1 is present.
void check_not_locked(pdf::Document& doc);

// A text string object: literal for printable ASCII, else UTF-16BE with a BOM.
pdf::Object text_string(std::string_view utf8);

struct SignatureSlot {
  std::string field_name;                 // empty → first free "<prefix>N"
  std::string default_prefix = "Signature";
  const Appearance* appearance = nullptr;  // nullptr → invisible
  std::vector<std::string> lines;          // for the appearance
  std::string sig_body;                    // from pdf::signature_dict_body
};

// Adds the signature dictionary and the field/widget/AcroForm/page changes to `up`; returns the
// signature dictionary's object number.
std::uint32_t add_signature_objects(pdf::Document& doc, pdf::Update& up, const SignatureSlot& slot);

}  // namespace sigil::pades::detail
