// The incremental-update writer (ISO 32000-1 §7.5.6): new and changed objects, a cross-reference
// section of the same kind as the previous one (table or stream) with /Prev, the trailer, %%EOF.
// Earlier bytes are never touched. A signature revision additionally carries a /ByteRange and a
// zero-filled /Contents hole; the file is hashed over the ByteRange while it is written, in one
// streaming pass.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "pades/pdf_file.hpp"
#include "sigil/common/crypto_types.hpp"

namespace sigil::pades::pdf {

class Update {
 public:
  explicit Update(Document& doc);

  std::uint32_t allocate();  // a fresh object number (generation 0)
  // `body` is the serialized object (for streams: dictionary + "stream…endstream").
  // Encrypted documents: everything put here is encrypted with the document's security handler and
  // the key of `r` (strings, and stream data after compression), except a signature dictionary's
  // /Contents (and its /ByteRange placeholder) and metadata streams with /EncryptMetadata false. A
  // serialized body is parsed back for that (it is our own output, e.g. signature_dict_body's).
  void put(Ref r, std::string body);
  void put(Ref r, const Object& o);
  Ref add(const Object& o);  // allocate + put
  Ref add_stream(Object dict, const std::string& data);  // sets /Length

  struct Built {
    std::string bytes;                              // to append after the current end of file
    std::map<std::uint32_t, std::size_t> offsets;   // object number → offset inside `bytes`
  };
  // The new trailer (or xref stream) carries /Root, /Info, /ID (unchanged), /Encrypt and /Prev; the
  // xref stream and the trailer are never encrypted.
  Built build() const;

 private:
  Document& doc_;
  std::uint32_t next_;
  std::map<std::uint32_t, std::pair<std::uint32_t, std::string>> objects_;  // num → (gen, body)
};

std::string stream_body(Object dict, const std::string& data);

// The signature dictionary body with a /ByteRange placeholder and a /Contents hole of
// `contents_bytes` zero bytes (2× hex digits). `extra` is appended inside the dictionary.
std::string signature_dict_body(std::string_view type, std::string_view sub_filter, std::size_t contents_bytes,
                                const std::string& extra);

struct WrittenRevision {
  std::uint64_t hole_offset = 0;  // absolute offset of '<'
  std::uint64_t hole_length = 0;  // bytes from '<' to '>' inclusive
  std::uint64_t file_size = 0;
  Bytes digest;                   // hash of the ByteRange
};

// Appends `built` (which holds a signature dictionary as object `sig_num`) to the document's bytes
// and writes the result to `output` (a copy when output is another file, an append in place when
// it is the document itself), fixing the /ByteRange and hashing it with `alg` on the way.
WrittenRevision write_signature_revision(Document& doc, Update::Built built, std::uint32_t sig_num,
                                         const std::filesystem::path& output, bool in_place, HashAlg alg);

// Appends a revision without a signature (DSS). In place or as a copy.
void write_revision(Document& doc, const Update::Built& built, const std::filesystem::path& output, bool in_place);

}  // namespace sigil::pades::pdf
