// PDF/A (ISO 19005) awareness: what a document claims in its XMP metadata and which colour its
// PDF/A output intent has, so that a signature added to a PDF/A file keeps it PDF/A — the
// appearance must embed its font, use colours the output intent covers, and PDF/A-1 forbids
// transparency (soft masks). We cannot validate a whole file (no PDF/A validator ships with
// Debian); we make sure what *we* add breaks none of the rules.
#pragma once

#include <cstddef>
#include <string>

#include "pades/pdf_file.hpp"

namespace sigil::pades::detail {

struct PdfaClaim {
  int part = 0;             // 1, 2, 3 (4: PDF/A-4); 0 = not PDF/A
  std::string conformance;  // "A", "B", "U", "" (PDF/A-4 has none)
  int output_intent_components = 0;  // /N of the GTS_PDFA1 DestOutputProfile; 0 = none
  bool pdfa() const { return part != 0; }
  std::string label() const;  // "PDF/A-2B"
  // Largest string PDF/A allows (ISO 19005-1 §6.1.12: 65535 bytes; -2/-3 §6.1.13: 32767).
  std::size_t max_string_bytes() const { return part == 1 ? 65535 : 32767; }
};

// Reads the catalog's /Metadata (pdfaid:part / pdfaid:conformance, as attributes or elements) and
// /OutputIntents. A missing or unreadable metadata stream means "not PDF/A".
PdfaClaim read_pdfa_claim(pdf::Document& doc);

// Throws Error(invalid_argument) when an appearance with these properties would break the claim:
// text without an embedded font, a colour space the output intent does not cover (`components`
// 1 gray, 3 RGB, 4 CMYK), a soft mask on PDF/A-1.
void check_pdfa_text(const PdfaClaim& c, bool embedded_font);
void check_pdfa_image(const PdfaClaim& c, int components, bool soft_mask);

}  // namespace sigil::pades::detail
