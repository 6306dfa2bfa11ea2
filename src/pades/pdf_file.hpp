// Read-only, load-on-demand access to a PDF file: the cross-reference chain (tables, streams,
// hybrid files), the newest trailer, and single objects (also from object streams). Only the xref
// entries are held in memory (16 bytes per object); object bodies are read with pread when asked
// for, so memory does not grow with the size of the page content or images.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pades/crypt.hpp"
#include "pades/pdf_object.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::pades::pdf {

// A file opened for reading with a small block cache; a Source for the parser.
class FileSource final : public Source {
 public:
  explicit FileSource(const std::filesystem::path& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  int at(std::uint64_t pos) override;
  std::uint64_t size() const override { return size_; }
  // Exactly n bytes at pos (Error(invalid_document) when the file is shorter).
  std::string read(std::uint64_t pos, std::size_t n);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t block_pos_ = ~0ULL;
  std::string block_;
};

struct XrefEntry {
  std::uint8_t type = 0;    // 0 free, 1 in use at offset, 2 in object stream
  std::uint64_t field2 = 0;  // offset, or object stream number
  std::uint32_t field3 = 0;  // generation, or index in the object stream
};

struct Stream {
  Object dict;
  std::string data;  // decoded
};

class Document {
 public:
  // Parses the header, startxref and the whole xref chain. Throws Error(invalid_document) for a
  // file that is not a PDF or is truncated/malformed. An encrypted file (/Encrypt) is opened with
  // `password` (null: none given, the empty user password is tried) through the Standard security
  // handler (crypt.hpp): Error(document_encrypted) when a password is needed, the given one is wrong
  // or the handler is not supported; the password is neither kept nor put into any message.
  explicit Document(const std::filesystem::path& path, const SecretString* password = nullptr);

  FileSource& source() { return src_; }
  std::uint64_t size() const { return src_.size(); }
  const Object& trailer() const { return trailer_; }
  std::uint64_t startxref() const { return startxref_; }
  bool xref_is_stream() const { return xref_stream_; }
  std::uint32_t next_object_number() const;  // the trailer's /Size (at least max+1)
  std::string header_version() const { return version_; }

  // The security handler of an encrypted document (null when the file is not encrypted). Strings
  // and streams returned by get()/get_stream() are already decrypted; the writer encrypts what it
  // writes with it.
  const SecurityHandler* crypt() const { return crypt_.get(); }
  // False when the document was opened with the user password and its permissions (/P) allow
  // neither annotations/form filling (bit 6) nor filling in form fields incl. signing (bit 9).
  bool can_sign() const { return crypt_ == nullptr || crypt_->can_sign(); }
  // Throws Error(document_locked) when !can_sign().
  void check_can_sign() const;

  // The object (null object when free/absent). Throws Error(invalid_document) when broken.
  Object get(Ref r);
  // Follows a reference (a direct object is returned as is).
  Object resolve(const Object& o);
  // A stream object: dictionary and decoded data (FlateDecode with PNG predictors only; anything
  // else throws Error(unsupported)). `max_size` bounds the decoded size.
  Stream get_stream(Ref r, std::size_t max_size = 64u << 20);
  // Offset of the object in the file (type 1 entries), if any.
  std::optional<std::uint64_t> offset_of(std::uint32_t num) const;
  bool has_object(std::uint32_t num) const;

  Object catalog();
  // The page object reference of the 1-based page index.
  Ref page_ref(unsigned index);
  unsigned page_count();

 private:
  void read_xref_chain();
  std::uint64_t read_xref_section(std::uint64_t offset, std::vector<std::uint64_t>& more);
  void read_xref_stream(std::uint64_t offset, Object* trailer_out, std::vector<std::uint64_t>& more);
  Object parse_indirect_at(std::uint64_t offset, Ref expect, std::uint64_t* stream_start);
  // `crypt_as`: the object whose key decrypts the data (null: not encrypted, e.g. an xref stream).
  std::string read_stream_data(const Object& dict, std::uint64_t start, std::size_t max_size,
                               const Ref* crypt_as = nullptr);
  void decrypt_object(Ref r, Object& o) const;
  Object object_from_objstm(std::uint32_t stm, std::uint32_t index, std::uint32_t num);

  FileSource src_;
  std::string version_;
  Object trailer_;
  std::uint64_t startxref_ = 0;
  bool xref_stream_ = false;
  std::unordered_map<std::uint32_t, XrefEntry> xref_;
  std::uint32_t max_num_ = 0;
  // One decoded object stream cached (most lookups hit the same one).
  std::uint32_t objstm_num_ = 0;
  std::shared_ptr<Stream> objstm_;
  int resolve_depth_ = 0;
  std::unique_ptr<SecurityHandler> crypt_;
  std::uint32_t encrypt_num_ = 0;  // object number of an indirect /Encrypt dictionary (never encrypted)
};

// zlib inflate with a size bound (Error(invalid_document) on corrupt data).
std::string inflate(std::string_view data, std::size_t max_size);
std::string deflate(std::string_view data);
// Undoes PNG row predictors (ISO 32000-1 §7.4.4.4, RFC 2083).
std::string png_unpredict(const std::string& in, std::int64_t columns, std::int64_t colors, std::int64_t bpc);

}  // namespace sigil::pades::pdf
