// A small DER toolkit: a writer (tag/length/value, constructed types, OIDs, INTEGERs, times, SET OF
// sorted per X.690 11.6) and a bounded reader that keeps the raw bytes of every element.
//
// The reader accepts DER only: definite lengths in minimal form, low tag numbers (< 31), at most
// kMaxDepth nested levels. Anything else (BER indefinite length, truncation, trailing garbage where
// a single element is expected) throws Error(invalid_document); it never reads out of bounds.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/secure.hpp"

namespace sigil::asn1 {

using ByteView = std::span<const std::uint8_t>;

// Universal tags (constructed bit already set for SEQUENCE and SET).
namespace tag {
inline constexpr std::uint8_t kBoolean = 0x01;
inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kBitString = 0x03;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kNull = 0x05;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kEnumerated = 0x0A;
inline constexpr std::uint8_t kUtf8String = 0x0C;
inline constexpr std::uint8_t kPrintableString = 0x13;
inline constexpr std::uint8_t kIa5String = 0x16;
inline constexpr std::uint8_t kUtcTime = 0x17;
inline constexpr std::uint8_t kGeneralizedTime = 0x18;
inline constexpr std::uint8_t kSequence = 0x30;
inline constexpr std::uint8_t kSet = 0x31;
// Context-specific [n]: constructed (explicit tags, implicit constructed types) or primitive.
constexpr std::uint8_t context(unsigned n, bool constructed = true) {
  return static_cast<std::uint8_t>(0x80 | (constructed ? 0x20 : 0) | (n & 0x1f));
}
}  // namespace tag

inline constexpr unsigned kMaxDepth = 32;

// ---------------------------------------------------------------- writer
// Identifier + definite length octets for a value of `length` bytes.
Bytes header(std::uint8_t tag, std::uint64_t length);
// Size of header(tag, length) without building it.
std::size_t header_size(std::uint64_t length);
Bytes tlv(std::uint8_t tag, ByteView value);
// Concatenation of already-encoded elements.
Bytes concat(std::initializer_list<ByteView> parts);
void append(Bytes& out, ByteView part);
Bytes sequence(std::initializer_list<ByteView> elements);
Bytes sequence_of(const std::vector<Bytes>& elements);  // order kept
// SET OF: the encodings sorted as octet strings (X.690 11.6); `set(...)` of distinct types is the
// same rule for DER.
Bytes set_of(std::vector<Bytes> elements);
Bytes explicit_tag(unsigned n, ByteView element);        // [n] EXPLICIT: A0|n wrapping the element
Bytes implicit_tag(unsigned n, ByteView element);        // [n] IMPLICIT: the element's tag replaced
Bytes oid(std::string_view dotted);                      // throws Error(invalid_argument)
Bytes integer(std::uint64_t value);
Bytes integer_from_unsigned(ByteView big_endian);        // non-negative magnitude, minimal form
Bytes octet_string(ByteView value);
Bytes null();
Bytes boolean(bool value);
Bytes utf8_string(std::string_view s);
Bytes ia5_string(std::string_view s);
Bytes utc_time(std::chrono::system_clock::time_point t);           // YYMMDDHHMMSSZ
Bytes generalized_time(std::chrono::system_clock::time_point t);   // YYYYMMDDHHMMSSZ
// RFC 5280/5652 Time: UTCTime for 1950..2049, GeneralizedTime otherwise.
Bytes time(std::chrono::system_clock::time_point t);

// ---------------------------------------------------------------- reader
struct Element {
  std::uint8_t tag = 0;
  ByteView raw;    // identifier + length + value, exactly as in the input
  ByteView value;  // contents octets
  bool constructed() const { return (tag & 0x20) != 0; }
  Bytes raw_bytes() const { return {raw.begin(), raw.end()}; }
  Bytes value_bytes() const { return {value.begin(), value.end()}; }
};

// Iterates the elements of a byte range (the contents of a constructed element, or a whole input).
class Reader {
 public:
  explicit Reader(ByteView data, unsigned depth = 0);
  bool done() const { return pos_ >= data_.size(); }
  // Next element; throws Error(invalid_document) when malformed or none left.
  Element next();
  // Next element, which must carry `tag`.
  Element next(std::uint8_t expected_tag, const char* what);
  // Next element if it carries `tag`.
  std::optional<Element> optional(std::uint8_t expected_tag);
  std::optional<std::uint8_t> peek_tag() const;
  // A reader over a constructed element's contents, one level deeper.
  Reader enter(const Element& e) const;
  // Throws unless every element was read.
  void expect_done(const char* what) const;
  unsigned depth() const { return depth_; }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
  unsigned depth_;
};

// Exactly one element spanning the whole input.
Element parse_single(ByteView data, const char* what);
// Checks that `data` is well-formed DER all the way down (every constructed element, bounded depth).
void validate_tree(ByteView data);

std::string read_oid(const Element& e);                      // dotted string
std::string oid_to_string(ByteView value);
std::uint64_t read_uint(const Element& e);                   // INTEGER 0..2^63
Bytes read_integer_magnitude(const Element& e);              // INTEGER, non-negative: big-endian magnitude
bool read_boolean(const Element& e);
std::chrono::system_clock::time_point read_time(const Element& e);  // UTCTime or GeneralizedTime (Z)

}  // namespace sigil::asn1
