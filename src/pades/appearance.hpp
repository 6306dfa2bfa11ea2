// Visible signature appearances: a form XObject with text lines and an optional JPEG/PNG image.
// Text is Helvetica (standard-14, WinAnsiEncoding: Latin-1 only, nothing embedded) or an embedded
// TrueType font as a Type0/Identity-H composite font (any character the font covers).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pades/pdfa.hpp"
#include "pades/writer.hpp"
#include "sigil/pades/pades.hpp"

namespace sigil::pades::detail {

// UTF-8 → code points; a malformed or truncated sequence becomes '?'.
std::u32string utf8_to_code_points(std::string_view utf8);
// UTF-8 → WinAnsiEncoding bytes; characters outside the encoding become '?'.
std::string to_winansi(std::string_view utf8);
// Width of WinAnsi text in Helvetica, in 1/1000 em.
double helvetica_width(std::string_view winansi);

// Adds the appearance objects (font, image, form XObject) to `up`; returns the form XObject.
// On a PDF/A document (`pdfa`), refuses (invalid_argument) what would break its conformance.
pdf::Ref build_appearance(pdf::Update& up, const Appearance& a, const std::vector<std::string>& lines,
                          const PdfaClaim& pdfa = {});

// An empty form XObject (/BBox [0 0 0 0]) for invisible signatures.
pdf::Ref build_empty_appearance(pdf::Update& up);

}  // namespace sigil::pades::detail
