#include "sigil/asn1/der.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::asn1 {
namespace {

[[noreturn]] void malformed(const std::string& what) { throw Error(Errc::invalid_document, "DER: " + what); }

void put_base128(Bytes& out, std::uint64_t v) {
  std::uint8_t buf[10];
  int n = 0;
  do {
    buf[n++] = static_cast<std::uint8_t>(v & 0x7f);
    v >>= 7;
  } while (v != 0);
  while (n > 0) {
    --n;
    out.push_back(static_cast<std::uint8_t>(buf[n] | (n > 0 ? 0x80 : 0)));
  }
}

// Arcs beyond 64 bits (UUID-based OIDs under 2.25 carry a 128-bit arc, ITU-T X.667) are handled
// as decimal strings: divide by 128 for the encoding, multiply-add for the decoding.
void put_base128_decimal(Bytes& out, std::string digits) {
  Bytes groups;  // little-endian base-128 digits
  while (!(digits.size() == 1 && digits[0] == '0')) {
    std::string quotient;
    unsigned rem = 0;
    for (const char c : digits) {
      rem = rem * 10 + static_cast<unsigned>(c - '0');
      if (!quotient.empty() || rem / 128 != 0) quotient.push_back(static_cast<char>('0' + rem / 128));
      rem %= 128;
    }
    groups.push_back(static_cast<std::uint8_t>(rem));
    digits = quotient.empty() ? "0" : quotient;
  }
  if (groups.empty()) groups.push_back(0);
  for (std::size_t i = groups.size(); i-- > 0;) out.push_back(static_cast<std::uint8_t>(groups[i] | (i > 0 ? 0x80 : 0)));
}

// decimal = decimal * 128 + add
void decimal_mul128_add(std::string& decimal, unsigned add) {
  unsigned carry = add;
  for (std::size_t i = decimal.size(); i-- > 0;) {
    const unsigned v = static_cast<unsigned>(decimal[i] - '0') * 128 + carry;
    decimal[i] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry != 0) {
    decimal.insert(decimal.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
  const auto nz = decimal.find_first_not_of('0');
  decimal = nz == std::string::npos ? "0" : decimal.substr(nz);
}

std::tm to_tm(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

Bytes text(std::uint8_t t, std::string_view s) { return tlv(t, sigil::as_bytes(s)); }

}  // namespace

// ---------------------------------------------------------------- writer
std::size_t header_size(std::uint64_t length) {
  if (length < 0x80) return 2;
  std::size_t n = 0;
  for (std::uint64_t l = length; l != 0; l >>= 8) ++n;
  return 2 + n;
}

Bytes header(std::uint8_t t, std::uint64_t length) {
  Bytes out{t};
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return out;
  }
  std::uint8_t buf[8];
  int n = 0;
  for (std::uint64_t l = length; l != 0; l >>= 8) buf[n++] = static_cast<std::uint8_t>(l & 0xff);
  out.push_back(static_cast<std::uint8_t>(0x80 | n));
  while (n > 0) out.push_back(buf[--n]);
  return out;
}

Bytes tlv(std::uint8_t t, ByteView value) {
  Bytes out = header(t, value.size());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

void append(Bytes& out, ByteView part) { out.insert(out.end(), part.begin(), part.end()); }

Bytes concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (const auto& p : parts) append(out, p);
  return out;
}

Bytes sequence(std::initializer_list<ByteView> elements) { return tlv(tag::kSequence, concat(elements)); }

Bytes sequence_of(const std::vector<Bytes>& elements) {
  Bytes inner;
  for (const auto& e : elements) append(inner, e);
  return tlv(tag::kSequence, inner);
}

Bytes set_of(std::vector<Bytes> elements) {
  // X.690 11.6: ascending order as octet strings, the shorter padded with trailing zero octets.
  std::sort(elements.begin(), elements.end(), [](const Bytes& a, const Bytes& b) {
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
      if (x != y) return x < y;
    }
    return false;
  });
  Bytes inner;
  for (const auto& e : elements) append(inner, e);
  return tlv(tag::kSet, inner);
}

Bytes explicit_tag(unsigned n, ByteView element) { return tlv(tag::context(n, true), element); }

Bytes implicit_tag(unsigned n, ByteView element) {
  if (element.empty()) throw Error(Errc::invalid_argument, "implicit_tag: empty element");
  Bytes out(element.begin(), element.end());
  out[0] = tag::context(n, (element[0] & 0x20) != 0);
  return out;
}

Bytes oid(std::string_view dotted) {
  std::vector<std::string_view> arcs;
  std::size_t pos = 0;
  while (pos <= dotted.size()) {
    const std::size_t dot = std::min(dotted.find('.', pos), dotted.size());
    const std::string_view arc = dotted.substr(pos, dot - pos);
    const bool digits_only = !arc.empty() && arc.size() <= 40 && arc.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits_only || (arc.size() > 1 && arc[0] == '0')) throw Error(Errc::invalid_argument, "bad OID: " + std::string(dotted));
    arcs.push_back(arc);
    pos = dot + 1;
  }
  auto small = [&](std::string_view arc, std::uint64_t& v) {
    const auto r = std::from_chars(arc.data(), arc.data() + arc.size(), v);
    return r.ec == std::errc() && r.ptr == arc.data() + arc.size();
  };
  std::uint64_t a0 = 0, a1 = 0;
  if (arcs.size() < 2 || !small(arcs[0], a0) || !small(arcs[1], a1) || a0 > 2 || (a0 < 2 && a1 > 39) ||
      a1 > (1ull << 56)) {
    throw Error(Errc::invalid_argument, "bad OID: " + std::string(dotted));
  }
  Bytes value;
  put_base128(value, a0 * 40 + a1);
  for (std::size_t i = 2; i < arcs.size(); ++i) {
    std::uint64_t v = 0;
    if (small(arcs[i], v)) {
      put_base128(value, v);
    } else {
      put_base128_decimal(value, std::string(arcs[i]));
    }
  }
  return tlv(tag::kOid, value);
}

Bytes integer_from_unsigned(ByteView big_endian) {
  std::size_t i = 0;
  while (i + 1 < big_endian.size() && big_endian[i] == 0) ++i;
  Bytes value;
  if (big_endian.empty()) {
    value.push_back(0);
  } else {
    if (big_endian[i] & 0x80) value.push_back(0);
    value.insert(value.end(), big_endian.begin() + static_cast<std::ptrdiff_t>(i), big_endian.end());
  }
  return tlv(tag::kInteger, value);
}

Bytes integer(std::uint64_t v) {
  std::uint8_t buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
  return integer_from_unsigned(ByteView(buf, 8));
}

Bytes octet_string(ByteView value) { return tlv(tag::kOctetString, value); }
Bytes null() { return Bytes{tag::kNull, 0x00}; }
Bytes boolean(bool value) { return Bytes{tag::kBoolean, 0x01, static_cast<std::uint8_t>(value ? 0xff : 0x00)}; }
Bytes utf8_string(std::string_view s) { return text(tag::kUtf8String, s); }
Bytes ia5_string(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) > 0x7f) throw Error(Errc::invalid_argument, "IA5String: non-ASCII character");
  return text(tag::kIa5String, s);
}

Bytes utc_time(std::chrono::system_clock::time_point t) {
  const std::tm tm = to_tm(t);
  if (tm.tm_year + 1900 < 1950 || tm.tm_year + 1900 > 2049) throw Error(Errc::invalid_argument, "UTCTime out of range");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return text(tag::kUtcTime, buf);
}

Bytes generalized_time(std::chrono::system_clock::time_point t) {
  const std::tm tm = to_tm(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return text(tag::kGeneralizedTime, buf);
}

Bytes time(std::chrono::system_clock::time_point t) {
  const int year = to_tm(t).tm_year + 1900;
  return (year >= 1950 && year <= 2049) ? utc_time(t) : generalized_time(t);
}

// ---------------------------------------------------------------- reader
Reader::Reader(ByteView data, unsigned depth) : data_(data), depth_(depth) {
  if (depth_ > kMaxDepth) malformed("nesting deeper than " + std::to_string(kMaxDepth));
}

std::optional<std::uint8_t> Reader::peek_tag() const {
  if (done()) return std::nullopt;
  return data_[pos_];
}

Element Reader::next() {
  const std::size_t start = pos_;
  const std::size_t left = data_.size() - pos_;
  if (left < 2) malformed(left == 0 ? "element expected, input ends" : "truncated header");
  const std::uint8_t t = data_[pos_];
  if ((t & 0x1f) == 0x1f) malformed("high tag numbers are not supported");
  std::size_t p = pos_ + 1;
  const std::uint8_t l0 = data_[p++];
  std::uint64_t len = 0;
  if (l0 < 0x80) {
    len = l0;
  } else {
    if (l0 == 0x80) malformed("indefinite length (BER) is not DER");
    const std::size_t n = l0 & 0x7f;
    if (n > 8) malformed("length of length > 8");
    if (data_.size() - p < n) malformed("truncated length");
    if (data_[p] == 0) malformed("non-minimal length");
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | data_[p++];
    if (len < 0x80) malformed("non-minimal length");
  }
  if (len > data_.size() - p) malformed("element longer than its input (truncated)");
  Element e;
  e.tag = t;
  e.value = data_.subspan(p, static_cast<std::size_t>(len));
  e.raw = data_.subspan(start, p - start + static_cast<std::size_t>(len));
  pos_ = p + static_cast<std::size_t>(len);
  return e;
}

Element Reader::next(std::uint8_t expected_tag, const char* what) {
  if (done()) malformed(std::string(what) + " missing");
  if (data_[pos_] != expected_tag) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s: tag 0x%02x, expected 0x%02x", what, data_[pos_], expected_tag);
    malformed(buf);
  }
  return next();
}

std::optional<Element> Reader::optional(std::uint8_t expected_tag) {
  if (done() || data_[pos_] != expected_tag) return std::nullopt;
  return next();
}

Reader Reader::enter(const Element& e) const {
  if (!e.constructed()) malformed("primitive element where a constructed one is expected");
  return Reader(e.value, depth_ + 1);
}

void Reader::expect_done(const char* what) const {
  if (!done()) malformed(std::string("unexpected data after ") + what);
}

Element parse_single(ByteView data, const char* what) {
  Reader r(data);
  Element e = r.next();
  r.expect_done(what);
  return e;
}

namespace {
void validate_level(ByteView data, unsigned depth) {
  Reader r(data, depth);
  while (!r.done()) {
    const Element e = r.next();
    if (e.constructed()) validate_level(e.value, depth + 1);
  }
}
}  // namespace

void validate_tree(ByteView data) {
  if (data.empty()) malformed("empty input");
  validate_level(data, 0);
}

std::string oid_to_string(ByteView v) {
  if (v.empty()) malformed("empty OID");
  if (v.back() & 0x80) malformed("truncated OID arc");
  std::string out;
  std::uint64_t acc = 0;
  std::string big;  // the arc in decimal once it no longer fits in 56 bits
  bool first = true;
  unsigned bits = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (bits == 0 && v[i] == 0x80) malformed("non-minimal OID arc");
    if (bits >= 140) malformed("OID arc too large");  // 2.25 UUID arcs are 128 bits
    if (bits >= 56 && big.empty()) {
      if (first) malformed("OID arc too large");
      big = std::to_string(acc);
    }
    if (big.empty()) {
      acc = (acc << 7) | (v[i] & 0x7f);
    } else {
      decimal_mul128_add(big, v[i] & 0x7fu);
    }
    bits += 7;
    if (v[i] & 0x80) continue;
    if (first) {
      const std::uint64_t a = acc < 80 ? acc / 40 : 2;
      out = std::to_string(a) + "." + std::to_string(acc - a * 40);
      first = false;
    } else {
      out += "." + (big.empty() ? std::to_string(acc) : big);
    }
    acc = 0;
    big.clear();
    bits = 0;
  }
  return out;
}

std::string read_oid(const Element& e) {
  if (e.tag != tag::kOid) malformed("OBJECT IDENTIFIER expected");
  return oid_to_string(e.value);
}

Bytes read_integer_magnitude(const Element& e) {
  if (e.tag != tag::kInteger || e.value.empty()) malformed("INTEGER expected");
  if (e.value.size() > 1 && ((e.value[0] == 0 && !(e.value[1] & 0x80)) || (e.value[0] == 0xff && (e.value[1] & 0x80))))
    malformed("non-minimal INTEGER");
  if (e.value[0] & 0x80) malformed("negative INTEGER");
  std::size_t i = 0;
  while (i + 1 < e.value.size() && e.value[i] == 0) ++i;
  return {e.value.begin() + static_cast<std::ptrdiff_t>(i), e.value.end()};
}

std::uint64_t read_uint(const Element& e) {
  const Bytes m = read_integer_magnitude(e);
  if (m.size() > 8 || (m.size() == 8 && (m[0] & 0x80))) malformed("INTEGER too large");
  std::uint64_t v = 0;
  for (const auto b : m) v = (v << 8) | b;
  return v;
}

bool read_boolean(const Element& e) {
  if (e.tag != tag::kBoolean || e.value.size() != 1 || (e.value[0] != 0 && e.value[0] != 0xff))
    malformed("BOOLEAN expected");
  return e.value[0] == 0xff;
}

std::chrono::system_clock::time_point read_time(const Element& e) {
  const std::string s(e.value.begin(), e.value.end());
  std::tm tm{};
  int year = 0;
  std::size_t p = 0;
  auto num = [&](std::size_t n) {
    if (p + n > s.size()) malformed("truncated time");
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = s[p + i];
      if (c < '0' || c > '9') malformed("bad digit in time");
      v = v * 10 + (c - '0');
    }
    p += n;
    return v;
  };
  if (e.tag == tag::kUtcTime) {
    year = num(2);
    year += year < 50 ? 2000 : 1900;
  } else if (e.tag == tag::kGeneralizedTime) {
    year = num(4);
  } else {
    malformed("time expected");
  }
  tm.tm_mon = num(2) - 1;
  tm.tm_mday = num(2);
  tm.tm_hour = num(2);
  tm.tm_min = num(2);
  tm.tm_sec = num(2);
  if (e.tag == tag::kGeneralizedTime && p < s.size() && s[p] == '.') {  // fraction: ignored (seconds resolution)
    ++p;
    const std::size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
    if (p == start) malformed("empty fraction");
  }
  if (p + 1 != s.size() || s[p] != 'Z') malformed("time must end in Z");
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    malformed("time field out of range");
  tm.tm_year = year - 1900;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace sigil::asn1
