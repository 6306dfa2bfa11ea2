#include "stream.hpp"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/uri.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>
#include <unordered_set>

#include "internal.hpp"
#include "sigil/common/error.hpp"

namespace sigil::xades::stream {
namespace {

constexpr const char* kXmlNs = "http://www.w3.org/XML/1998/namespace";
constexpr std::size_t kFlushAt = 64 * 1024;

std::string str(const xmlChar* s) { return s != nullptr ? reinterpret_cast<const char*>(s) : std::string(); }

struct Ns {
  std::string prefix;
  std::string uri;
};

struct Attr {
  std::string uri;
  std::string local;
  std::string qname;
  std::string value;
};

// C14N 1.0 (inclusive or exclusive, no comments) of a whole document from SAX2 events.
class Canonicaliser {
 public:
  Canonicaliser(xmlParserCtxtPtr ctxt, std::string_view text, const Limits& limits, C14n alg, HashAlg hash)
      : ctxt_(ctxt), text_(text), limits_(limits), exclusive_(alg == C14n::exclusive), hasher_(hash) {}

  void start(const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri, int nb_ns,
             const xmlChar** namespaces, int nb_attr, const xmlChar** attributes) {
    if (++depth_ > limits_.max_depth) {
      throw Error(Errc::invalid_document, "XML nesting deeper than " + std::to_string(limits_.max_depth), true);
    }
    const std::string elem_prefix = str(prefix);
    const std::string elem_uri = str(uri);
    const std::string local = str(localname);
    if (elem_uri == xml::kDsNs && local == "Signature") result.has_signature = true;
    scope_marks_.push_back(scope_.size());
    rendered_marks_.push_back(rendered_.size());

    std::vector<Ns> decls;
    for (int i = 0; i < nb_ns; ++i) {
      decls.push_back({str(namespaces[2 * i]), str(namespaces[2 * i + 1])});
      check_absolute(namespaces[2 * i + 1]);
    }
    std::vector<Attr> attrs;
    for (int i = 0; i < nb_attr; ++i) {
      const xmlChar** a = attributes + 5 * i;
      Attr at;
      at.local = str(a[0]);
      const std::string ap = str(a[1]);
      at.uri = str(a[2]);
      at.qname = ap.empty() ? at.local : ap + ":" + at.local;
      at.value = decode_value(reinterpret_cast<const char*>(a[3]), static_cast<std::size_t>(a[4] - a[3]));
      const bool is_id = (at.uri.empty() && (at.local == "Id" || at.local == "ID" || at.local == "id")) ||
                         (at.uri == kXmlNs && at.local == "id");
      if (is_id && !ids_.insert(at.value).second) {
        throw Error(Errc::xml_forbidden, "duplicate Id \"" + at.value + "\" in the XML document", true);
      }
      attrs.push_back(std::move(at));
    }

    std::vector<Ns> out_ns;
    if (!exclusive_) {
      for (const Ns& d : decls) {
        if (d.prefix == "xml") continue;
        const std::string* cur = lookup(scope_, d.prefix);
        if (d.prefix.empty() ? (cur != nullptr ? *cur : std::string()) != d.uri : (cur == nullptr || *cur != d.uri)) {
          out_ns.push_back(d);
        }
      }
      scope_.insert(scope_.end(), decls.begin(), decls.end());
    } else {
      scope_.insert(scope_.end(), decls.begin(), decls.end());
      std::vector<std::string> used{elem_prefix};
      for (int i = 0; i < nb_attr; ++i) {
        const std::string ap = str(attributes[5 * i + 1]);
        if (!ap.empty() && ap != "xml" && std::find(used.begin(), used.end(), ap) == used.end()) used.push_back(ap);
      }
      for (const std::string& p : used) {
        if (p == "xml") continue;
        const std::string* in = lookup(scope_, p);
        const std::string u = in != nullptr ? *in : std::string();
        const std::string* r = lookup(rendered_, p);
        if (p.empty() && u.empty()) {
          if (r != nullptr && !r->empty()) out_ns.push_back({"", ""});
        } else if (r == nullptr || *r != u) {
          out_ns.push_back({p, u});
        }
      }
      rendered_.insert(rendered_.end(), out_ns.begin(), out_ns.end());
    }
    std::sort(out_ns.begin(), out_ns.end(), [](const Ns& a, const Ns& b) { return a.prefix < b.prefix; });
    std::sort(attrs.begin(), attrs.end(), [](const Attr& a, const Attr& b) {
      return a.uri != b.uri ? a.uri < b.uri : a.local < b.local;
    });

    out_ += '<';
    out_ += elem_prefix.empty() ? local : elem_prefix + ":" + local;
    for (const Ns& n : out_ns) {
      out_ += n.prefix.empty() ? " xmlns=\"" : " xmlns:" + n.prefix + "=\"";
      escape_attr(n.uri);
      out_ += '"';
    }
    for (const Attr& a : attrs) {
      out_ += ' ';
      out_ += a.qname;
      out_ += "=\"";
      escape_attr(a.value);
      out_ += '"';
    }
    out_ += '>';
    if (depth_ == 1) {
      for (const Ns& n : scope_) {
        if (n.prefix != "xml") result.root_namespaces.emplace_back(n.prefix, n.uri);
      }
      for (const Attr& a : attrs) {
        if (a.uri == kXmlNs) result.root_xml_attributes.emplace_back(a.local, a.value);
      }
    }
    flush(false);
  }

  void end(const xmlChar* localname, const xmlChar* prefix) {
    out_ += "</";
    if (prefix != nullptr) {
      out_ += str(prefix);
      out_ += ':';
    }
    out_ += str(localname);
    out_ += '>';
    scope_.resize(scope_marks_.back());
    scope_marks_.pop_back();
    rendered_.resize(rendered_marks_.back());
    rendered_marks_.pop_back();
    if (--depth_ == 0) {
      after_root_ = true;
      const bool utf8 = ctxt_->input != nullptr && (ctxt_->input->buf == nullptr || ctxt_->input->buf->encoder == nullptr);
      const long consumed = xmlByteConsumed(ctxt_);
      if (utf8 && consumed > 1 && static_cast<std::size_t>(consumed) <= text_.size()) {
        const std::size_t lt = text_.rfind('<', static_cast<std::size_t>(consumed) - 1);
        if (lt != std::string_view::npos && text_.compare(lt, 2, "</") == 0) result.root_end_tag = lt;
      }
    }
    flush(false);
  }

  void text(const xmlChar* ch, int len) {
    if (depth_ == 0) return;
    for (int i = 0; i < len; ++i) {
      const char c = static_cast<char>(ch[i]);
      switch (c) {
        case '&': out_ += "&amp;"; break;
        case '<': out_ += "&lt;"; break;
        case '>': out_ += "&gt;"; break;
        case '\r': out_ += "&#xD;"; break;
        default: out_ += c;
      }
    }
    flush(false);
  }

  void pi(const xmlChar* target, const xmlChar* data) {
    std::string s = "<?" + str(target);
    const std::string d = str(data);
    if (!d.empty()) s += " " + d;
    s += "?>";
    if (depth_ > 0) {
      out_ += s;
    } else if (after_root_) {
      out_ += "\n" + s;
    } else {
      out_ += s + "\n";
    }
  }

  Result finish() {
    flush(true);
    result.digest = hasher_.final();
    result.ids.assign(ids_.begin(), ids_.end());
    return std::move(result);
  }

  Result result;
  std::exception_ptr error;
  bool doctype = false;

 private:
  static const std::string* lookup(const std::vector<Ns>& v, const std::string& prefix) {
    for (auto it = v.rbegin(); it != v.rend(); ++it) {
      if (it->prefix == prefix) return &it->uri;
    }
    return nullptr;
  }
  // C14N fails on relative namespace URIs (C14N 1.0 §2.3); libxml2's tree C14N refuses them the
  // same way (xmlC14NCheckForRelativeNamespaces), and so do we.
  static void check_absolute(const xmlChar* href) {
    if (href == nullptr || *href == 0) return;
    xmlURIPtr uri = xmlParseURI(reinterpret_cast<const char*>(href));
    const bool ok = uri != nullptr && uri->scheme != nullptr && *uri->scheme != 0;
    if (uri != nullptr) xmlFreeURI(uri);
    if (!ok) throw Error(Errc::invalid_document, "relative or invalid namespace URI: C14N cannot process it", true);
  }
  // Without entity substitution libxml2 hands '&' in attribute values over as "&#38;".
  static std::string decode_value(const char* p, std::size_t n) {
    std::string v(p, n);
    for (std::size_t at = v.find("&#38;"); at != std::string::npos; at = v.find("&#38;", at + 1)) v.replace(at, 5, "&");
    return v;
  }
  void escape_attr(const std::string& v) {
    for (char c : v) {
      switch (c) {
        case '&': out_ += "&amp;"; break;
        case '<': out_ += "&lt;"; break;
        case '"': out_ += "&quot;"; break;
        case '\t': out_ += "&#x9;"; break;
        case '\n': out_ += "&#xA;"; break;
        case '\r': out_ += "&#xD;"; break;
        default: out_ += c;
      }
    }
  }
  void flush(bool all) {
    if (!all && out_.size() < kFlushAt) return;
    hasher_.update(reinterpret_cast<const std::uint8_t*>(out_.data()), out_.size());
    out_.clear();
  }

  xmlParserCtxtPtr ctxt_;
  std::string_view text_;
  Limits limits_;
  bool exclusive_;
  detail::Hasher hasher_;
  std::string out_;
  unsigned depth_ = 0;
  bool after_root_ = false;
  std::vector<Ns> scope_;
  std::vector<std::size_t> scope_marks_;
  std::vector<Ns> rendered_;
  std::vector<std::size_t> rendered_marks_;
  std::unordered_set<std::string> ids_;
};

// Every callback is noexcept: an exception is parked and the parser stopped.
template <typename F>
void guarded(void* ctx, F&& f) noexcept {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  auto* c = static_cast<Canonicaliser*>(ctxt->_private);
  if (c->error) return;
  try {
    f(*c);
  } catch (...) {
    c->error = std::current_exception();
    xmlStopParser(ctxt);
  }
}

void on_start(void* ctx, const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri, int nb_ns,
              const xmlChar** namespaces, int nb_attr, int, const xmlChar** attributes) noexcept {
  guarded(ctx, [&](Canonicaliser& c) { c.start(localname, prefix, uri, nb_ns, namespaces, nb_attr, attributes); });
}
void on_end(void* ctx, const xmlChar* localname, const xmlChar* prefix, const xmlChar*) noexcept {
  guarded(ctx, [&](Canonicaliser& c) { c.end(localname, prefix); });
}
void on_text(void* ctx, const xmlChar* ch, int len) noexcept {
  guarded(ctx, [&](Canonicaliser& c) { c.text(ch, len); });
}
void on_pi(void* ctx, const xmlChar* target, const xmlChar* data) noexcept {
  guarded(ctx, [&](Canonicaliser& c) { c.pi(target, data); });
}
void on_internal_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) noexcept {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  static_cast<Canonicaliser*>(ctxt->_private)->doctype = true;
  xmlStopParser(ctxt);
}

}  // namespace

Result canonicalise(std::string_view text, const Limits& limits, C14n alg, HashAlg hash) {
  xml::init();
  if (text.size() > limits.max_bytes || text.size() > static_cast<std::size_t>(INT_MAX)) {
    throw Error(Errc::document_too_large,
                "XML document of " + std::to_string(text.size()) + " bytes exceeds " + std::to_string(limits.max_bytes),
                true);
  }
  if (text.empty()) throw Error(Errc::invalid_document, "empty XML document", true);
  xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(text.data(), static_cast<int>(text.size()));
  if (ctxt == nullptr) throw Error(Errc::internal, "xmlCreateMemoryParserCtxt failed");
  Canonicaliser canon(ctxt, text, limits, alg, hash);
  // Only our handlers: no tree is built, nothing is resolved.
  std::memset(ctxt->sax, 0, sizeof(xmlSAXHandler));
  ctxt->sax->initialized = XML_SAX2_MAGIC;
  ctxt->sax->startElementNs = on_start;
  ctxt->sax->endElementNs = on_end;
  ctxt->sax->characters = on_text;
  ctxt->sax->ignorableWhitespace = on_text;
  ctxt->sax->cdataBlock = on_text;
  ctxt->sax->processingInstruction = on_pi;
  ctxt->sax->internalSubset = on_internal_subset;
  ctxt->_private = &canon;
  ctxt->userData = ctxt;
  xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlParseDocument(ctxt);
  const bool well_formed = ctxt->wellFormed != 0 && ctxt->nsWellFormed != 0;
  std::string why;
  if (const xmlError* e = xmlCtxtGetLastError(ctxt); e != nullptr && e->message != nullptr) {
    why = e->message;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  }
  if (ctxt->myDoc != nullptr) xmlFreeDoc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  xmlFreeParserCtxt(ctxt);
  if (canon.doctype) {
    throw Error(Errc::xml_forbidden, "XML with a DOCTYPE (DTD, entity declarations) is not accepted", true);
  }
  if (canon.error) std::rethrow_exception(canon.error);
  if (!well_formed) throw Error(Errc::invalid_document, "malformed XML: " + why, true);
  return canon.finish();
}

}  // namespace sigil::xades::stream
