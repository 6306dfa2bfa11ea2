// The Standard security handler of PDF encryption (ISO 32000-1 §7.6.3, ISO 32000-2 §7.6.4):
// V1/V2 R2/R3 (RC4 40..128 bits), V4 R4 with crypt filters (/CF /StmF /StrF; /V2 = RC4, /AESV2 =
// AES-128-CBC, /Identity), V5 R5/R6 (/AESV3, AES-256-CBC). The file key is derived from the user
// password (Algorithm 2, 2.A) or recovered through the owner password (Algorithm 7 via /O for R ≤ 4,
// /OE for R5/R6) and authenticated (Algorithms 6/7/11/12). Other security handlers (/Adobe.PubSec,
// ...) are refused with Error(document_encrypted).
//
// RC4 (and through it every R ≤ 4 password check) comes from OpenSSL's `legacy` provider, loaded into
// a private OSSL_LIB_CTX: the process-wide default library context is never changed. When the
// provider cannot be loaded, Error(unsupported) says so. MD5, SHA-2 and AES come from the default
// provider. Every derived key and password copy is wiped (secure_wipe) when no longer needed; the
// file key lives in the handler and is wiped by its destructor. Internal to src/pades.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pades/pdf_object.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::pades::pdf {

class SecurityHandler {
 public:
  enum class Method { identity, rc4, aes128, aes256 };

  // `encrypt` is the resolved /Encrypt dictionary, `id0` the first element of the trailer /ID (may be
  // empty), `password` null when the caller gave none (the empty user password is tried then).
  // Throws Error(document_encrypted) when a password is needed, when the given one is wrong, or when
  // the handler/version is not supported; Error(invalid_document) for a corrupt dictionary;
  // Error(unsupported) when RC4 is needed but OpenSSL's legacy provider is unavailable.
  static std::unique_ptr<SecurityHandler> open(const Object& encrypt, std::string_view id0,
                                               const SecretString* password);
  ~SecurityHandler();
  SecurityHandler(const SecurityHandler&) = delete;
  SecurityHandler& operator=(const SecurityHandler&) = delete;

  int revision() const { return r_; }
  bool owner_access() const { return owner_; }  // authenticated with the owner password
  std::int32_t permissions() const { return p_; }
  bool encrypt_metadata() const { return encrypt_metadata_; }
  Method string_method() const { return str_; }
  Method stream_method() const { return stm_; }
  // Signing needs the "modify annotations / fill in forms" (bit 6) or the "fill in form fields,
  // including signature fields" (bit 9) permission, unless the owner password was given.
  bool can_sign() const;

  // Strings and stream data of object `r` (stream data before filters / after compression).
  // Decryption failures (AES length, padding) throw Error(invalid_document).
  std::string decrypt(Ref r, std::string_view data, Method m) const;
  std::string encrypt(Ref r, std::string_view data, Method m) const;
  // The method of a crypt filter named in a stream's /Filter /Crypt /DecodeParms /Name.
  Method filter_method(std::string_view name) const;

 private:
  SecurityHandler() = default;
  std::string object_key(Ref r, Method m) const;  // wiped by the caller

  int v_ = 0, r_ = 0;
  std::int32_t p_ = 0;
  bool owner_ = false;
  bool encrypt_metadata_ = true;
  Method str_ = Method::identity, stm_ = Method::identity;
  std::string key_;                                      // the file encryption key
  std::vector<std::pair<std::string, Method>> filters_;  // /CF entries (V4+)
};

// True for a signature dictionary (/Type /Sig or /DocTimeStamp, or /ByteRange with /Contents): its
// /Contents string is never encrypted (ISO 32000-2 §7.6.2).
bool is_signature_dict(const Object& dict);

// Decrypts (encrypt = false) or encrypts every string inside `o` with the key of object `r`, leaving
// the /Contents of signature dictionaries alone.
void crypt_strings(const SecurityHandler& h, Ref r, Object& o, bool encrypt);

}  // namespace sigil::pades::pdf
