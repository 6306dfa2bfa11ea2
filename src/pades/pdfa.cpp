#include "pades/pdfa.hpp"

#include <string_view>

#include "sigil/common/error.hpp"

namespace sigil::pades::detail {
namespace {

using pdf::Object;

// `pdfaid:<key>="v"` (attribute form) or `<pdfaid:key>v</pdfaid:key>` (element form); at most a
// short token is read (no regex: libstdc++'s recursive matcher overflows the stack on long input).
std::string xmp_value(std::string_view xmp, const std::string& key) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  const auto token = [&](std::size_t at, std::string_view stop) {
    while (at < xmp.size() && is_space(xmp[at])) ++at;
    std::string v;
    while (at < xmp.size() && v.size() < 16 && stop.find(xmp[at]) == std::string_view::npos && !is_space(xmp[at]))
      v.push_back(xmp[at++]);
    return v;
  };
  const std::string attr = "pdfaid:" + key;
  for (std::size_t at = xmp.find(attr); at != std::string_view::npos; at = xmp.find(attr, at + 1)) {
    if (at > 0 && xmp[at - 1] == '<') {  // the element form
      if (at + attr.size() < xmp.size() && xmp[at + attr.size()] == '>') return token(at + attr.size() + 1, "<");
      continue;
    }
    std::size_t p = at + attr.size();
    while (p < xmp.size() && is_space(xmp[p])) ++p;
    if (p >= xmp.size() || xmp[p] != '=') continue;
    ++p;
    while (p < xmp.size() && is_space(xmp[p])) ++p;
    if (p < xmp.size() && (xmp[p] == '"' || xmp[p] == '\'')) return token(p + 1, "\"'");
  }
  return {};
}

[[noreturn]] void refuse(const PdfaClaim& c, const std::string& why) {
  throw Error(Errc::invalid_argument, "the document is " + c.label() + ": " + why, true);
}

}  // namespace

std::string PdfaClaim::label() const { return part == 0 ? "" : "PDF/A-" + std::to_string(part) + conformance; }

PdfaClaim read_pdfa_claim(pdf::Document& doc) {
  PdfaClaim c;
  Object catalog = doc.catalog();
  const Object& md = catalog.get("Metadata");
  if (!md.is_ref()) return c;
  std::string xmp;
  try {
    xmp = doc.get_stream(md.as_ref(), 4u << 20).data;
  } catch (const Error&) {
    return c;  // unreadable metadata: nothing is claimed that we could keep
  }
  const std::string part = xmp_value(xmp, "part");
  if (part.size() != 1 || part[0] < '1' || part[0] > '4') return c;
  c.part = part[0] - '0';
  c.conformance = xmp_value(xmp, "conformance");
  for (auto& ch : c.conformance) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const Object intents = doc.resolve(catalog.get("OutputIntents"));
  if (intents.is_array()) {
    for (const auto& i : intents.items()) {
      const Object oi = doc.resolve(i);
      if (!oi.is_dict() || !oi.get("S").is_name("GTS_PDFA1")) continue;
      const Object& prof = oi.get("DestOutputProfile");
      if (!prof.is_ref()) continue;
      const Object n = doc.resolve(doc.get(prof.as_ref()).get("N"));
      if (n.is_int()) c.output_intent_components = static_cast<int>(n.as_int());
      break;
    }
  }
  return c;
}

void check_pdfa_text(const PdfaClaim& c, bool embedded_font) {
  if (!c.pdfa()) return;
  if (!embedded_font)
    refuse(c, "every font must be embedded; give the visible signature a TrueType font (appearance font, "
              "profiles[].font)");
  // The text is painted with DeviceGray (0 g), which PDF/A allows only under an output intent.
  if (c.output_intent_components == 0)
    refuse(c, "it has no PDF/A output intent, so the signature's DeviceGray text would break it");
}

void check_pdfa_image(const PdfaClaim& c, int components, bool soft_mask) {
  if (!c.pdfa()) return;
  if (soft_mask && c.part == 1) refuse(c, "PDF/A-1 forbids transparency; use an image without an alpha channel");
  if (c.output_intent_components == 0) refuse(c, "it has no PDF/A output intent, so a device-colour image would break it");
  if (components != 1 && components != c.output_intent_components)
    refuse(c, "the image's colour space (" + std::to_string(components) +
                  " components) does not match the PDF/A output intent (" +
                  std::to_string(c.output_intent_components) + " components)");
}

}  // namespace sigil::pades::detail
