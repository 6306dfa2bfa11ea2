// PAdES baseline signatures (ETSI EN 319 142-1) on top of the CMS engine, written as incremental
// updates so every earlier revision and signature stays byte-identical.
//
// Two phases, like every formatter: prepare() appends a revision with a signature field, a
// signature dictionary and a zero-filled /Contents hole to a copy of the input, hashes the
// /ByteRange while copying (one streaming pass) and returns the digest the key must sign;
// finish() writes the CMS into the hole in place and, for B-LT/B-LTA, appends the DSS and the
// document time-stamp revisions. Memory does not depend on the size of the PDF (see docs/pades.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sigil/common/secure.hpp"
#include "sigil/common/signing.hpp"

namespace sigil::pades {

// A visible signature: a widget on `page` with text lines and an optional image. A named appearance
// template (configuration) is simply a preset of these fields.
struct Appearance {
  unsigned page = 1;                        // 1-based
  double x = 36, y = 36, width = 200, height = 60;  // PDF points, origin bottom-left of the page
  // When true, `y` is the distance from the top of the page's MediaBox to the top of the box (the
  // convention of EU DSS imageParameters); the writer converts it with the page's height.
  bool y_from_top = false;
  // Lines shown, in order. Empty → the defaults below are generated.
  std::vector<std::string> lines;           // UTF-8; with Helvetica characters outside WinAnsi become '?'
  bool show_name = true;                    // "Signed by <name>" (signer_name, else the leaf's CN)
  bool show_date = true;                    // "Date: <signing time, UTC>"
  bool show_reason = true;                  // "Reason: ..." when a reason is set
  bool show_location = true;                // "Location: ..." when a location is set
  std::string free_text;                    // an extra last line
  double font_size = 0;                     // 0 → fitted to the box
  std::optional<std::filesystem::path> image;  // JPEG or PNG (8-bit, alpha → SMask), left part of the box
  // A TrueType font to embed (e.g. /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf), as PDF/A
  // requires, as a Type0/Identity-H font (any character it covers); empty → the standard-14 Helvetica,
  // not embedded, WinAnsi (Latin-1) text only.
  std::optional<std::filesystem::path> font;
};

struct PadesParams {
  // Signature field: an existing empty /Sig field with this (fully qualified) name is used;
  // otherwise a new field with this name is created (empty → "Signature<N>").
  std::string field_name;
  std::optional<Appearance> appearance;  // nullopt → invisible signature (zero-size widget)
  std::string reason, location, contact_info;
  std::string signer_name;  // /Name; empty → the leaf certificate's CN
  std::chrono::system_clock::time_point signing_time = std::chrono::system_clock::now();  // → /M
  // Bytes reserved for the DER CMS in /Contents (the hole holds twice as many hex digits).
  // 0 → estimated from the certificate chain and the level.
  std::size_t contents_size = 0;
  HashAlg digest_alg = HashAlg::sha256;
  SignatureScheme scheme = SignatureScheme::ecdsa;  // must fit the leaf key
  SignerCerts signer;
  SignatureLevel level = SignatureLevel::b_b;  // the level finish() produces
  std::optional<std::string> commitment_type_oid;
  // 0 → an approval signature. 1, 2 or 3 → a certification signature (ISO 32000 DocMDP) with that
  // /P: 1 no changes, 2 form filling and signing in existing signature fields, 3 as 2 plus
  // annotations. Only the first signature of a document can certify it (else invalid_argument).
  int certification = 0;
  // Password of an encrypted input (user or owner password; null = none given, then only a PDF with
  // an empty user password opens). Shared because PadesParams is copied; never logged, never put
  // into the state. See docs/pades.md, "Encrypted PDFs".
  std::shared_ptr<const SecretString> password;
};

struct Prepared {
  HashAlg digest_alg = HashAlg::sha256;
  Bytes data_to_be_signed;  // DER signed attributes
  Bytes digest;             // what a hash-only signer signs
  Bytes state;              // opaque; hand it back to finish()
};

// The network sources finish()/extend() need for B-T and above (null where the level needs none).
struct Services {
  Timestamper* tsa = nullptr;            // B-T, B-LTA
  RevocationSource* revocation = nullptr;  // B-LT, B-LTA
};

// Phase 1. `output` must differ from `input`; it is written completely (a copy of the input plus the
// new revision with a zero-filled hole). An encrypted input is opened with params.password and the
// new revision is encrypted like the rest of the file. Throws Error(invalid_document|
// document_encrypted (password needed or wrong)|document_locked (DocMDP P=1, or permissions that
// forbid signing when opened with the user password)|invalid_argument|io).
Prepared prepare(const std::filesystem::path& input, const std::filesystem::path& output,
                 const PadesParams& params);

// Phase 2: the CMS (time-stamped for B-T+) goes into the hole of the file prepare() wrote, in place;
// B-LT adds a DSS revision, B-LTA a DSS and a document time-stamp revision.
// Throws Error(invalid_signing_state) when the state or the prepared file does not fit,
// Error(invalid_signature_value), Error(invalid_argument) when the CMS exceeds the reserved size,
// and the Timestamper/RevocationSource errors.
// `password`: for an encrypted document at B-LT/B-LTA, the password given to prepare() (the DSS and
// document time-stamp revisions are encrypted, so the file is opened again; the state holds neither
// the password nor the file key). Not needed for B-B/B-T (only the plain /Contents hole is written);
// a missing or wrong one fails with Error(document_encrypted) before the hole is filled.
void finish(const Bytes& state, const Bytes& signature_value, const Services& services = {},
            const SecretString* password = nullptr);

// Both phases with a key at hand.
void sign(const std::filesystem::path& input, const std::filesystem::path& output, const PadesParams& params,
          KeySigner& key, const Services& services = {});

// Raises every signature of an already signed PDF to `target` by appending revisions:
// B-T → a document time-stamp (when a signature has no signature-time-stamp), B-LT → DSS for every
// signature (signer chains and the TSA chains of their time-stamps), B-LTA → DSS + document
// time-stamp. `output` may equal `pdf` (then the file is extended in place).
// `password` opens an encrypted PDF (see PadesParams::password).
void extend(const std::filesystem::path& pdf, const std::filesystem::path& output, SignatureLevel target,
            const Services& services, const SecretString* password = nullptr);

// Appends a document time-stamp revision (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161, an
// incremental update; the token over `alg` of the ByteRange) to any PDF, signed or not (DSS
// timestampDocument). `output` may equal `pdf`. Throws like extend() (invalid_document,
// document_encrypted, document_locked) and the Timestamper's errors.
void add_document_timestamp(const std::filesystem::path& pdf, const std::filesystem::path& output, Timestamper& tsa,
                            HashAlg alg = HashAlg::sha256, const SecretString* password = nullptr);

// Information about the signatures of a PDF (for tests, `sigilctl`, and extend()).
struct SignatureInfo {
  std::string field_name;
  std::string sub_filter;                 // "ETSI.CAdES.detached", "ETSI.RFC3161", ...
  std::vector<std::uint64_t> byte_range;  // 4 numbers
  Bytes contents;                         // decoded /Contents (with its zero padding)
  bool doc_timestamp = false;
  int certification = 0;                  // the DocMDP /P when this signature certifies the document
};

// The DocMDP permission of a certified document (1, 2 or 3), 0 when it is not certified.
int certification_level(const std::filesystem::path& pdf, const SecretString* password = nullptr);
// `contents` is the /Contents as stored: never encrypted, also in an encrypted PDF.
std::vector<SignatureInfo> list_signatures(const std::filesystem::path& pdf, const SecretString* password = nullptr);

}  // namespace sigil::pades
