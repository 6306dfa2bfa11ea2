#include "pades/fields.hpp"

#include <algorithm>
#include <set>

#include "pades/appearance.hpp"
#include "sigil/common/error.hpp"

namespace sigil::pades::detail {
namespace {

using pdf::Object;
using pdf::Ref;

constexpr int kMaxFieldDepth = 32;
constexpr std::size_t kMaxFieldNodes = 100000;

void walk(pdf::Document& doc, const Object& kids, const std::string& prefix, const std::string& ft, int depth,
          std::vector<FieldNode>& out, std::size_t& visited) {
  if (!kids.is_array() || depth > kMaxFieldDepth) return;
  for (const auto& k : kids.items()) {
    if (!k.is_ref() || ++visited > kMaxFieldNodes) continue;
    const Object node = doc.get(k.as_ref());
    if (!node.is_dict()) continue;
    const Object& t = node.get("T");
    const Object& f = node.get("FT");
    const std::string my_ft = f.is_name() ? f.text() : ft;
    std::string name = prefix;
    if (t.is_string()) {
      name = prefix.empty() ? t.text() : prefix + "." + t.text();
      out.push_back(FieldNode{name, my_ft, k.as_ref(), node});
    }
    walk(doc, doc.resolve(node.get("Kids")), name, my_ft, depth + 1, out, visited);
  }
}

// A copy of `arr` (direct or a reference to an array) as a direct array.
Object direct_array(pdf::Document& doc, const Object& arr) {
  const Object a = doc.resolve(arr);
  return a.is_array() ? a : Object::array();
}

}  // namespace

std::vector<FieldNode> all_fields(pdf::Document& doc) {
  std::vector<FieldNode> out;
  const Object acro = doc.resolve(doc.catalog().get("AcroForm"));
  if (!acro.is_dict()) return out;
  std::size_t visited = 0;
  walk(doc, doc.resolve(acro.get("Fields")), "", "", 0, out, visited);
  return out;
}

int docmdp_level(pdf::Document& doc) {
  const Object perms = doc.resolve(doc.catalog().get("Perms"));
  if (!perms.is_dict()) return 0;
  const Object mdp = doc.resolve(perms.get("DocMDP"));
  if (!mdp.is_dict()) return 0;
  const Object refs = doc.resolve(mdp.get("Reference"));
  if (!refs.is_array()) return 0;
  for (const auto& r : refs.items()) {
    const Object ref = doc.resolve(r);
    if (!ref.is_dict() || !ref.get("TransformMethod").is_name("DocMDP")) continue;
    const Object params = doc.resolve(ref.get("TransformParams"));
    const Object& p = params.is_dict() ? params.get("P") : Object{};
    // ISO 32000-1 Table 254: /P defaults to 2; anything else than 1..3 is read as the strictest.
    if (!p.is_int()) return 2;
    return p.as_int() >= 1 && p.as_int() <= 3 ? static_cast<int>(p.as_int()) : 1;
  }
  return 0;
}

Object text_string(std::string_view s) {
  bool ascii = true;
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) ascii = false;
  if (ascii) return Object::string(std::string(s));
  std::string u = "\xFE\xFF";
  auto put16 = [&u](std::uint32_t v) {
    u.push_back(static_cast<char>((v >> 8) & 0xff));
    u.push_back(static_cast<char>(v & 0xff));
  };
  for (char32_t cp : utf8_to_code_points(s)) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put16(0xD800 + (cp >> 10));
      put16(0xDC00 + (cp & 0x3FF));
    } else {
      put16(cp);
    }
  }
  return Object::string(u, true);
}

namespace {

// What a certification (DocMDP) of the document allows, and whether this signature may certify it.
void check_certification(pdf::Document& doc, const SignatureSlot& slot, const std::vector<FieldNode>& fields,
                         const FieldNode* existing) {
  if (slot.certification < 0 || slot.certification > 3)
    throw Error(Errc::invalid_argument, "certification must be 0 (none), 1, 2 or 3 (DocMDP /P)", true);
  const int level = docmdp_level(doc);
  if (slot.certification != 0) {
    // One certification per document, and it must come first (ISO 32000-1 §12.8.2.2: Acrobat and
    // every validator read a certification after an approval signature as a forbidden change).
    if (level != 0) throw Error(Errc::invalid_argument, "the document is already certified", true);
    for (const auto& f : fields)
      if (f.ft == "Sig" && !f.dict.get("V").is_null())
        throw Error(Errc::invalid_argument,
                    "a certification signature must be the document's first signature; this document is already signed",
                    true);
  }
  // ISO 32000-2 Table 257: incremental updates that only add a DSS or a document time-stamp are not
  // changes in the sense of DocMDP, whatever /P says.
  if (level == 0 || slot.doc_timestamp) return;
  if (level == 1)
    throw Error(Errc::document_locked,
                "the document is certified with DocMDP P=1: no further signatures or changes are allowed", true);
  if (level == 2 && existing == nullptr)
    throw Error(Errc::document_locked,
                "the document is certified with DocMDP P=2: it may be signed only in one of its existing empty "
                "signature fields (name one), not in a new field",
                true);
}

}  // namespace

std::uint32_t add_signature_objects(pdf::Document& doc, pdf::Update& up, const SignatureSlot& slot) {
  const Ref catalog_ref = doc.trailer().get("Root").as_ref();
  Object catalog = doc.catalog();
  const Object& acro_entry = catalog.get("AcroForm");
  Object acro = doc.resolve(acro_entry);
  if (!acro.is_dict()) acro = Object::dict();
  const std::vector<FieldNode> fields = all_fields(doc);

  bool acro_changed = false;
  const FieldNode* existing = nullptr;
  if (!slot.field_name.empty()) {
    for (const auto& f : fields)
      if (f.name == slot.field_name) existing = &f;
  }
  check_certification(doc, slot, fields, existing);

  const Ref sig_ref{up.allocate(), 0};
  up.put(sig_ref, slot.sig_body);
  if (existing != nullptr) {
    if (existing->ft != "Sig")
      throw Error(Errc::invalid_argument, "field '" + slot.field_name + "' is not a signature field", true);
    if (!existing->dict.get("V").is_null())
      throw Error(Errc::invalid_argument, "field '" + slot.field_name + "' is already signed", true);
    Object field = existing->dict;
    field.set("V", Object::ref(sig_ref));
    Ref widget_ref = existing->ref;
    Object widget;
    const bool merged = field.get("Subtype").is_name("Widget");
    if (!merged) {
      const Object kids = doc.resolve(field.get("Kids"));
      if (kids.is_array() && !kids.items().empty() && kids.items()[0].is_ref()) {
        widget_ref = kids.items()[0].as_ref();
        widget = doc.get(widget_ref);
      }
    }
    if (slot.appearance != nullptr) {
      Appearance a = *slot.appearance;
      const Object rect = doc.resolve(merged ? field.get("Rect") : widget.get("Rect"));
      if (rect.is_array() && rect.items().size() == 4) {
        a.width = std::abs(rect.items()[2].as_number() - rect.items()[0].as_number());
        a.height = std::abs(rect.items()[3].as_number() - rect.items()[1].as_number());
      }
      if (a.width > 0 && a.height > 0) {
        Object ap = Object::dict();
        ap.set("N", Object::ref(build_appearance(up, a, slot.lines, slot.pdfa)));
        if (merged) field.set("AP", ap);
        else if (widget.is_dict()) {
          widget.set("AP", ap);
          up.put(widget_ref, widget);
        }
      }
    }
    up.put(existing->ref, field);
  } else {
    std::set<std::string> names;
    for (const auto& f : fields) names.insert(f.name);
    std::string name = slot.field_name;
    for (unsigned i = 1; name.empty() || names.contains(name); ++i) name = slot.default_prefix + std::to_string(i);
    const unsigned page_no = slot.appearance != nullptr ? slot.appearance->page : 1;
    const Ref page_ref = doc.page_ref(page_no);
    Object page = doc.get(page_ref);
    if (!page.is_dict()) throw Error(Errc::invalid_document, "page object is not a dictionary");
    Object widget = Object::dict();
    widget.set("Type", Object::name("Annot"));
    widget.set("Subtype", Object::name("Widget"));
    widget.set("FT", Object::name("Sig"));
    widget.set("T", text_string(name));
    widget.set("V", Object::ref(sig_ref));
    widget.set("F", Object::integer(132));  // Print | Locked
    widget.set("P", Object::ref(page_ref));
    if (slot.appearance != nullptr) {
      const auto& a = *slot.appearance;
      double y = a.y;
      if (a.y_from_top) {
        // MediaBox is inheritable: the page's, else its ancestors'.
        Object box = doc.resolve(page.get("MediaBox"));
        Object node = page;
        for (int i = 0; i < 32 && !box.is_array(); ++i) {
          node = doc.resolve(node.get("Parent"));
          if (!node.is_dict()) break;
          box = doc.resolve(node.get("MediaBox"));
        }
        const double top = box.is_array() && box.items().size() == 4
                               ? std::max(box.items()[1].as_number(), box.items()[3].as_number())
                               : 792.0;
        y = top - a.y - a.height;
      }
      char buf[4][32];
      const double v[4] = {a.x, y, a.x + a.width, y + a.height};
      Object rect = Object::array();
      for (int i = 0; i < 4; ++i) {
        std::snprintf(buf[i], sizeof buf[i], "%.2f", v[i]);
        rect.items().push_back(Object::real_text(buf[i]));
      }
      widget.set("Rect", rect);
      Object ap = Object::dict();
      ap.set("N", Object::ref(build_appearance(up, a, slot.lines, slot.pdfa)));
      widget.set("AP", ap);
    } else {
      widget.set("Rect", Object::array({Object::integer(0), Object::integer(0), Object::integer(0), Object::integer(0)}));
      Object ap = Object::dict();
      ap.set("N", Object::ref(build_empty_appearance(up)));
      widget.set("AP", ap);
    }
    const Ref field_ref = up.add(widget);
    Object annots = direct_array(doc, page.get("Annots"));
    annots.items().push_back(Object::ref(field_ref));
    page.set("Annots", annots);
    up.put(page_ref, page);
    Object fa = direct_array(doc, acro.get("Fields"));
    fa.items().push_back(Object::ref(field_ref));
    acro.set("Fields", fa);
    acro_changed = true;
  }
  const Object& flags = acro.get("SigFlags");
  if (!flags.is_int() || flags.as_int() != 3) {
    acro.set("SigFlags", Object::integer(3));
    acro_changed = true;
  }
  bool catalog_changed = false;
  if (acro_changed) {
    if (acro_entry.is_ref() && doc.has_object(acro_entry.as_ref().num)) {
      up.put(acro_entry.as_ref(), acro);
    } else {
      if (acro_entry.is_dict()) catalog.set("AcroForm", acro);
      else catalog.set("AcroForm", Object::ref(up.add(acro)));
      catalog_changed = true;
    }
  }
  if (slot.certification != 0) {
    // ISO 32000-1 §12.8.4: /Perms /DocMDP names the certifying signature dictionary (indirect).
    Object perms = doc.resolve(catalog.get("Perms"));
    if (!perms.is_dict()) perms = Object::dict();
    perms.set("DocMDP", Object::ref(sig_ref));
    catalog.set("Perms", perms);
    catalog_changed = true;
  }
  if (catalog_changed) up.put(catalog_ref, catalog);
  return sig_ref.num;
}

}  // namespace sigil::pades::detail
