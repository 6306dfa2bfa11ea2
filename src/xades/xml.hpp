// libxml2 behind one RAII idiom, the hardened parser, canonicalisation (C14N 1.0 inclusive and
// exclusive, without comments) into a streaming sink, and small tree builders.
// Internal header (src/), never included from include/sigil/.
#pragma once

#include <libxml/tree.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/crypto_types.hpp"
#include "sigil/xades/xades.hpp"

namespace sigil::xades::xml {

struct DocFree {
  void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

inline constexpr const char* kDsNs = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr const char* kXadesNs = "http://uri.etsi.org/01903/v1.3.2#";
inline constexpr const char* kXades141Ns = "http://uri.etsi.org/01903/v1.4.1#";

// Initialises libxml2 once and silences its generic error output on this thread.
void init();

// Hardened parse: no network, no DTD (a DOCTYPE -> Error(xml_forbidden)), no entity substitution,
// no XInclude, size <= limits.max_bytes (Error(document_too_large)), depth <= limits.max_depth,
// Id/ID/id/xml:id values unique (duplicates -> Error(xml_forbidden)). Malformed ->
// Error(invalid_document). Whitespace and namespaces are kept as they are.
Doc parse(std::string_view text, const Limits& limits);

// A new empty document.
Doc new_doc();

// Receives canonical bytes as they are produced.
using Sink = std::function<void(const std::uint8_t*, std::size_t)>;

// C14N of the whole document (no comments).
void c14n_document(xmlDoc* doc, C14n alg, const Sink& sink);
// C14N of the document without the subtree at `excluded` (enveloped-signature transform + C14N).
void c14n_document_excluding(xmlDoc* doc, xmlNode* excluded, C14n alg, const Sink& sink);
// C14N of the subtree at `node`, in its document context (in-scope namespaces and, for inclusive
// C14N, inherited xml:* attributes are rendered as C14N requires).
void c14n_subtree(xmlNode* node, C14n alg, const Sink& sink);
Bytes c14n_subtree_bytes(xmlNode* node, C14n alg);

// Serialises the document as UTF-8 (an XML declaration, no re-indentation).
std::string serialize(xmlDoc* doc);
// Serialises one element (and its subtree) as UTF-8, no XML declaration.
std::string serialize_element(xmlNode* node);

// Builders (text and attribute values are stored raw and escaped on output).
xmlNode* add_element(xmlNode* parent, xmlNs* ns, const char* name);
xmlNode* add_text_element(xmlNode* parent, xmlNs* ns, const char* name, std::string_view text);
void set_attr(xmlNode* node, const char* name, std::string_view value);
void set_text(xmlNode* node, std::string_view text);

// Queries.
bool is(const xmlNode* node, const char* ns, const char* local);
xmlNode* first_child(xmlNode* parent, const char* ns, const char* local);
std::vector<xmlNode*> children(xmlNode* parent, const char* ns, const char* local);
std::string attr(const xmlNode* node, const char* name);  // "" when absent
std::string text(const xmlNode* node);                    // concatenated text content
// Every element of the subtree at `root` (document order) matching ns + local name.
std::vector<xmlNode*> find_all(xmlNode* root, const char* ns, const char* local);
// The element whose Id/ID/id attribute equals `id` (unique by parse()), or nullptr.
xmlNode* find_by_id(xmlDoc* doc, std::string_view id);
// Every Id/ID/id value in the document.
std::vector<std::string> all_ids(xmlDoc* doc);

inline const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
inline const char* C(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

}  // namespace sigil::xades::xml
