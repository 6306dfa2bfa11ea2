#include "xml.hpp"

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlsave.h>

#include <climits>
#include <exception>
#include <mutex>
#include <unordered_set>

#include "sigil/common/error.hpp"

namespace sigil::xades::xml {
namespace {

// libxml2 reports some errors (encoding conversion) through the generic handler, which prints to
// stderr whatever the parser options say. Ours are reported as sigil::Error; keep stderr clean.
void silent(void*, const char*, ...) noexcept {}

void init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { xmlInitParser(); });
  xmlSetGenericErrorFunc(nullptr, silent);  // per thread in libxml2
}

struct ParseFlags {
  bool doctype = false;
};

// SAX hook: called as soon as "<!DOCTYPE name ..." is read, before any internal subset. Stopping
// the parser here means no entity declaration is ever parsed, let alone expanded.
void on_internal_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) noexcept {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  if (ctxt->_private != nullptr) static_cast<ParseFlags*>(ctxt->_private)->doctype = true;
  xmlStopParser(ctxt);
}

bool is_id_attr(const xmlAttr* a) {
  if (a->ns == nullptr) {
    return xmlStrEqual(a->name, X("Id")) || xmlStrEqual(a->name, X("ID")) || xmlStrEqual(a->name, X("id"));
  }
  return xmlStrEqual(a->name, X("id")) && xmlStrEqual(a->ns->href, XML_XML_NAMESPACE);
}

std::string attr_value(const xmlAttr* a) {
  xmlChar* v = xmlNodeGetContent(reinterpret_cast<const xmlNode*>(a));
  std::string s = v != nullptr ? C(v) : "";
  xmlFree(v);
  return s;
}

// Visits every element of the subtree at `root` in document order with its depth (root = 1),
// without recursion.
template <typename F>
void walk_elements(xmlNode* root, F&& f) {
  unsigned depth = 1;
  xmlNode* n = root;
  while (n != nullptr) {
    if (n->type == XML_ELEMENT_NODE) {
      f(n, depth);
      if (n->children != nullptr) {
        n = n->children;
        ++depth;
        continue;
      }
    }
    while (n != nullptr && n != root && n->next == nullptr) {
      n = n->parent;
      --depth;
    }
    if (n == nullptr || n == root) break;
    n = n->next;
  }
}

struct SinkCtx {
  const Sink* sink;
  std::exception_ptr error;
};

int sink_write(void* ctx, const char* buf, int len) noexcept {
  auto* c = static_cast<SinkCtx*>(ctx);
  try {
    (*c->sink)(reinterpret_cast<const std::uint8_t*>(buf), static_cast<std::size_t>(len));
    return len;
  } catch (...) {
    c->error = std::current_exception();
    return -1;
  }
}
int sink_close(void*) noexcept { return 0; }

int mode_of(C14n alg) { return alg == C14n::exclusive ? XML_C14N_EXCLUSIVE_1_0 : XML_C14N_1_0; }

void run_c14n(xmlDoc* doc, xmlC14NIsVisibleCallback cb, void* user, C14n alg, const Sink& sink) {
  SinkCtx c{&sink, nullptr};
  xmlOutputBufferPtr buf = xmlOutputBufferCreateIO(sink_write, sink_close, &c, nullptr);
  if (buf == nullptr) throw Error(Errc::internal, "xmlOutputBufferCreateIO failed");
  const int rc = xmlC14NExecute(doc, cb, user, mode_of(alg), nullptr, 0, buf);
  const int rc2 = xmlOutputBufferClose(buf);
  if (c.error) std::rethrow_exception(c.error);
  if (rc < 0 || rc2 < 0) throw Error(Errc::invalid_document, "XML canonicalisation failed");
}

// The element a C14N visibility query is about: namespace nodes and attributes by their element.
xmlNode* owner(xmlNode* node, xmlNode* parent) {
  if (node == nullptr || node->type == XML_NAMESPACE_DECL) return parent;
  return node;
}
bool within(xmlNode* n, const xmlNode* top) {
  for (; n != nullptr; n = n->parent) {
    if (n == top) return true;
  }
  return false;
}
int visible_in_subtree(void* user, xmlNodePtr node, xmlNodePtr parent) noexcept {
  return within(owner(node, parent), static_cast<xmlNode*>(user)) ? 1 : 0;
}
int visible_outside_subtree(void* user, xmlNodePtr node, xmlNodePtr parent) noexcept {
  return within(owner(node, parent), static_cast<xmlNode*>(user)) ? 0 : 1;
}

int string_write(void* ctx, const char* buf, int len) noexcept {
  try {
    static_cast<std::string*>(ctx)->append(buf, static_cast<std::size_t>(len));
    return len;
  } catch (...) {
    return -1;
  }
}

}  // namespace

void init() { init_once(); }

Doc parse(std::string_view text, const Limits& limits) {
  init_once();
  if (text.size() > limits.max_bytes || text.size() > static_cast<std::size_t>(INT_MAX)) {
    throw Error(Errc::document_too_large,
                "XML document of " + std::to_string(text.size()) + " bytes exceeds " +
                    std::to_string(limits.max_bytes),
                true);
  }
  if (text.empty()) throw Error(Errc::invalid_document, "empty XML document", true);
  xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(text.data(), static_cast<int>(text.size()));
  if (ctxt == nullptr) throw Error(Errc::internal, "xmlCreateMemoryParserCtxt failed");
  ParseFlags flags;
  ctxt->_private = &flags;
  ctxt->sax->internalSubset = on_internal_subset;
  // Deliberately absent: XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD/DTDATTR/DTDVALID,
  // XML_PARSE_XINCLUDE, XML_PARSE_HUGE, XML_PARSE_NOBLANKS (signed whitespace must survive).
  xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
  xmlParseDocument(ctxt);
  Doc doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  // Namespace errors (undeclared prefix, empty prefixed namespace) only clear nsWellFormed.
  const bool well_formed = ctxt->wellFormed != 0 && ctxt->nsWellFormed != 0;
  std::string why;
  if (const xmlError* e = xmlCtxtGetLastError(ctxt); e != nullptr && e->message != nullptr) {
    why = e->message;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  }
  xmlFreeParserCtxt(ctxt);
  if (flags.doctype || (doc && (doc->intSubset != nullptr || doc->extSubset != nullptr))) {
    throw Error(Errc::xml_forbidden, "XML with a DOCTYPE (DTD, entity declarations) is not accepted", true);
  }
  if (!well_formed || !doc) throw Error(Errc::invalid_document, "malformed XML: " + why, true);
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) throw Error(Errc::invalid_document, "XML document without a root element", true);

  std::unordered_set<std::string> ids;
  walk_elements(root, [&](xmlNode* n, unsigned depth) {
    if (depth > limits.max_depth) {
      throw Error(Errc::invalid_document, "XML nesting deeper than " + std::to_string(limits.max_depth), true);
    }
    for (xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      if (!is_id_attr(a)) continue;
      if (!ids.insert(attr_value(a)).second) {
        throw Error(Errc::xml_forbidden, "duplicate Id \"" + attr_value(a) + "\" in the XML document", true);
      }
    }
  });
  return doc;
}

Doc new_doc() {
  init_once();
  Doc d(xmlNewDoc(X("1.0")));
  if (!d) throw Error(Errc::internal, "xmlNewDoc failed");
  return d;
}

void c14n_document(xmlDoc* doc, C14n alg, const Sink& sink) { run_c14n(doc, nullptr, nullptr, alg, sink); }

void c14n_document_excluding(xmlDoc* doc, xmlNode* excluded, C14n alg, const Sink& sink) {
  run_c14n(doc, visible_outside_subtree, excluded, alg, sink);
}

void c14n_subtree(xmlNode* node, C14n alg, const Sink& sink) {
  run_c14n(node->doc, visible_in_subtree, node, alg, sink);
}

Bytes c14n_subtree_bytes(xmlNode* node, C14n alg) {
  Bytes out;
  c14n_subtree(node, alg, [&](const std::uint8_t* p, std::size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

std::string serialize(xmlDoc* doc) {
  std::string out;
  xmlSaveCtxtPtr s = xmlSaveToIO(string_write, sink_close, &out, "UTF-8", 0);
  if (s == nullptr) throw Error(Errc::internal, "xmlSaveToIO failed");
  const long rc = xmlSaveDoc(s, doc);
  const int rc2 = xmlSaveClose(s);
  if (rc < 0 || rc2 < 0) throw Error(Errc::internal, "XML serialisation failed");
  return out;
}

std::string serialize_element(xmlNode* node) {
  std::string out;
  xmlSaveCtxtPtr s = xmlSaveToIO(string_write, sink_close, &out, "UTF-8", XML_SAVE_NO_DECL);
  if (s == nullptr) throw Error(Errc::internal, "xmlSaveToIO failed");
  const long rc = xmlSaveTree(s, node);
  const int rc2 = xmlSaveClose(s);
  if (rc < 0 || rc2 < 0) throw Error(Errc::internal, "XML serialisation failed");
  return out;
}

xmlNode* add_element(xmlNode* parent, xmlNs* ns, const char* name) {
  xmlNode* n = xmlNewDocNode(parent->doc, ns, X(name), nullptr);
  if (n == nullptr || xmlAddChild(parent, n) == nullptr) throw Error(Errc::internal, "xmlNewDocNode failed");
  return n;
}

xmlNode* add_text_element(xmlNode* parent, xmlNs* ns, const char* name, std::string_view text) {
  xmlNode* n = add_element(parent, ns, name);
  set_text(n, text);
  return n;
}

void set_attr(xmlNode* node, const char* name, std::string_view value) {
  const std::string v(value);
  if (xmlSetProp(node, X(name), X(v.c_str())) == nullptr) throw Error(Errc::internal, "xmlSetProp failed");
}

void set_text(xmlNode* node, std::string_view text) {
  // Drop existing children, then one raw text node (escaped on output, never parsed).
  while (node->children != nullptr) {
    xmlNode* c = node->children;
    xmlUnlinkNode(c);
    xmlFreeNode(c);
  }
  if (text.empty()) return;
  xmlNode* t = xmlNewDocTextLen(node->doc, X(std::string(text).c_str()), static_cast<int>(text.size()));
  if (t == nullptr || xmlAddChild(node, t) == nullptr) throw Error(Errc::internal, "xmlNewDocTextLen failed");
}

bool is(const xmlNode* node, const char* ns, const char* local) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE || !xmlStrEqual(node->name, X(local))) return false;
  if (ns == nullptr || *ns == '\0') return node->ns == nullptr || node->ns->href == nullptr || *node->ns->href == 0;
  return node->ns != nullptr && xmlStrEqual(node->ns->href, X(ns));
}

xmlNode* first_child(xmlNode* parent, const char* ns, const char* local) {
  if (parent == nullptr) return nullptr;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (is(c, ns, local)) return c;
  }
  return nullptr;
}

std::vector<xmlNode*> children(xmlNode* parent, const char* ns, const char* local) {
  std::vector<xmlNode*> out;
  if (parent == nullptr) return out;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (is(c, ns, local)) out.push_back(c);
  }
  return out;
}

std::string attr(const xmlNode* node, const char* name) {
  if (node == nullptr) return {};
  const xmlAttr* a = xmlHasNsProp(node, X(name), nullptr);
  return a != nullptr ? attr_value(a) : std::string();
}

std::string text(const xmlNode* node) {
  if (node == nullptr) return {};
  xmlChar* v = xmlNodeGetContent(node);
  std::string s = v != nullptr ? C(v) : "";
  xmlFree(v);
  return s;
}

std::vector<xmlNode*> find_all(xmlNode* root, const char* ns, const char* local) {
  std::vector<xmlNode*> out;
  walk_elements(root, [&](xmlNode* n, unsigned) {
    if (is(n, ns, local)) out.push_back(n);
  });
  return out;
}

xmlNode* find_by_id(xmlDoc* doc, std::string_view id) {
  xmlNode* found = nullptr;
  xmlNode* root = xmlDocGetRootElement(doc);
  if (root == nullptr) return nullptr;
  walk_elements(root, [&](xmlNode* n, unsigned) {
    for (xmlAttr* a = n->properties; a != nullptr && found == nullptr; a = a->next) {
      if (is_id_attr(a) && attr_value(a) == id) found = n;
    }
  });
  return found;
}

std::vector<std::string> all_ids(xmlDoc* doc) {
  std::vector<std::string> out;
  xmlNode* root = xmlDocGetRootElement(doc);
  if (root == nullptr) return out;
  walk_elements(root, [&](xmlNode* n, unsigned) {
    for (xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      if (is_id_attr(a)) out.push_back(attr_value(a));
    }
  });
  return out;
}

}  // namespace sigil::xades::xml
