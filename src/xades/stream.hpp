// Streaming canonicalisation of a whole document (SAX2, no tree): the enveloped-signing fast path.
// It applies the same refusals as xml::parse() (DOCTYPE, size, depth, duplicate Ids, namespace
// errors) and reports where the root element's end tag starts, so the ds:Signature can be spliced
// into the original bytes instead of re-serialising a tree. Internal header (src/).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sigil/xades/xades.hpp"

namespace sigil::xades::stream {

struct Result {
  Bytes digest;                    // digest of C14N(document), no comments
  std::vector<std::string> ids;    // every Id/ID/id/xml:id value
  bool has_signature = false;      // a ds:Signature occurs somewhere
  // Offset of the root element's end tag ("</...>") in the input, or npos when the input is not
  // UTF-8 (offsets would not be byte offsets of the original) or the tag cannot be located.
  std::size_t root_end_tag = std::string::npos;
  // The root's in-scope namespace declarations (prefix "" = default) and its xml:* attributes
  // (local name, value): the context a child of the root inherits under inclusive C14N.
  std::vector<std::pair<std::string, std::string>> root_namespaces;
  std::vector<std::pair<std::string, std::string>> root_xml_attributes;
};

Result canonicalise(std::string_view text, const Limits& limits, C14n alg, HashAlg hash);

}  // namespace sigil::xades::stream
