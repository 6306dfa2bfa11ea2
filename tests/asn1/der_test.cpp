#include "sigil/asn1/der.hpp"

#include <gtest/gtest.h>

#include "sigil/common/encoding.hpp"
#include "test_util.hpp"

namespace sigil::asn1 {
namespace {

std::string hex(const Bytes& b) { return hex_encode(b); }

TEST(DerWriter, LengthForms) {
  EXPECT_EQ(hex(header(0x04, 0)), "0400");
  EXPECT_EQ(hex(header(0x04, 127)), "047f");
  EXPECT_EQ(hex(header(0x04, 128)), "048180");
  EXPECT_EQ(hex(header(0x04, 256)), "04820100");
  EXPECT_EQ(hex(header(0x04, 0x1000000)), "048401000000");
  for (std::uint64_t n : {0ull, 127ull, 128ull, 255ull, 256ull, 65535ull, 65536ull, 1ull << 40})
    EXPECT_EQ(header_size(n), header(0x30, n).size()) << n;
}

TEST(DerWriter, Oid) {
  EXPECT_EQ(hex(oid("1.2.840.113549.1.7.2")), "06092a864886f70d010702");
  EXPECT_EQ(hex(oid("2.16.840.1.101.3.4.2.1")), "0609608648016503040201");
  EXPECT_EQ(hex(oid("0.4.0.1733.2.4")), "060604008d450204");
  EXPECT_EQ(oid_to_string(parse_single(oid("0.4.0.1733.2.4"), "oid").value), "0.4.0.1733.2.4");
  EXPECT_EQ(oid_to_string(parse_single(oid("2.999.3"), "oid").value), "2.999.3");
  EXPECT_SIGIL_ERROR(oid("1"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(oid("1.2.x"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(oid("1..2"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(oid("3.1"), Errc::invalid_argument);
}

TEST(DerWriter, Integers) {
  EXPECT_EQ(hex(integer(0)), "020100");
  EXPECT_EQ(hex(integer(127)), "02017f");
  EXPECT_EQ(hex(integer(128)), "02020080");
  EXPECT_EQ(hex(integer(256)), "02020100");
  EXPECT_EQ(hex(integer_from_unsigned(Bytes{0x00, 0x00, 0xff})), "020200ff");
  EXPECT_EQ(hex(integer_from_unsigned(Bytes{})), "020100");
  EXPECT_EQ(read_uint(parse_single(integer(0x123456789ull), "int")), 0x123456789ull);
  EXPECT_EQ(hex(read_integer_magnitude(parse_single(integer(128), "int"))), "80");
}

TEST(DerWriter, SetOfIsSorted) {
  const Bytes s = set_of({octet_string(Bytes{2}), octet_string(Bytes{1, 1}), integer(5), octet_string(Bytes{1})});
  EXPECT_EQ(hex(s), "310d" "020105" "040101" "040102" "04020101");
}

TEST(DerWriter, TaggingAndTimes) {
  EXPECT_EQ(hex(explicit_tag(0, integer(1))), "a003020101");
  EXPECT_EQ(hex(implicit_tag(1, sequence({integer(1)}))), "a103020101");
  EXPECT_EQ(hex(implicit_tag(2, integer(1))), "820101");
  const auto t = std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}};  // 2027-01-15T08:00:00Z
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(utc_time(t).data()) + 2, 13), "270115080000Z");
  EXPECT_EQ(time(t)[0], tag::kUtcTime);
  EXPECT_EQ(read_time(parse_single(generalized_time(t), "t")), t);
  EXPECT_EQ(read_time(parse_single(utc_time(t), "t")), t);
  const auto late = std::chrono::system_clock::time_point{std::chrono::seconds{2'600'000'000}};  // 2052
  EXPECT_EQ(time(late)[0], tag::kGeneralizedTime);
  EXPECT_SIGIL_ERROR(utc_time(late), Errc::invalid_argument);
}

TEST(DerReader, KeepsRawBytesAndNests) {
  const Bytes inner = sequence({integer(7), octet_string(Bytes{1, 2, 3})});
  const Bytes outer = sequence({oid("1.2.3"), explicit_tag(0, inner), null()});
  Reader r(outer);
  const Element e = r.next(tag::kSequence, "outer");
  EXPECT_TRUE(r.done());
  Reader c = r.enter(e);
  EXPECT_EQ(read_oid(c.next(tag::kOid, "oid")), "1.2.3");
  const Element tagged = c.next(tag::context(0), "[0]");
  Reader t = c.enter(tagged);
  const Element in = t.next(tag::kSequence, "inner");
  EXPECT_EQ(Bytes(in.raw.begin(), in.raw.end()), inner);
  EXPECT_FALSE(c.optional(tag::kInteger).has_value());
  EXPECT_TRUE(c.optional(tag::kNull).has_value());
  c.expect_done("outer");
  EXPECT_NO_THROW(validate_tree(outer));
}

TEST(DerReader, LongValues) {
  const Bytes big(70000, 0xab);
  const Bytes enc = octet_string(big);
  const Element e = parse_single(enc, "big");
  EXPECT_EQ(e.value.size(), big.size());
}

TEST(DerReader, RejectsMalformed) {
  const std::vector<std::string> bad = {
      "",                  // empty
      "30",                // header truncated
      "3003020101ff",      // trailing byte after single element
      "30050201",          // value truncated
      "3080020101 0000",   // indefinite length
      "048100",            // non-minimal length
      "04820001ff",        // non-minimal long length
      "0489010000000000000000",  // length of length > 8
      "048fffffffff",      // absurd length
      "1f2200",            // high tag number
      "3003020201",        // inner INTEGER truncated (found by validate_tree)
  };
  for (const auto& h : bad) {
    std::string clean;
    for (char ch : h)
      if (ch != ' ') clean += ch;
    const Bytes b = hex_decode(clean);
    SCOPED_TRACE(h);
    EXPECT_SIGIL_ERROR(
        {
          parse_single(b, "x");
          validate_tree(b);
        },
        Errc::invalid_document);
  }
  EXPECT_SIGIL_ERROR(read_oid(parse_single(hex_decode("060180"), "oid")), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(read_oid(parse_single(hex_decode("0602802a"), "oid")), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(read_uint(parse_single(hex_decode("02020001"), "int")), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(read_uint(parse_single(hex_decode("0201ff"), "int")), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(read_uint(parse_single(hex_decode("0200"), "int")), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(read_time(parse_single(hex_decode("170c323730313135303830303030"), "t")), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(read_time(parse_single(hex_decode("170d3237313331353038303030305a"), "t")), Errc::invalid_document);
}

TEST(DerReader, DepthIsBounded) {
  Bytes deep = null();
  for (unsigned i = 0; i < kMaxDepth + 5; ++i) deep = sequence({deep});
  EXPECT_SIGIL_ERROR(validate_tree(deep), Errc::invalid_document);
  Bytes ok = null();
  for (unsigned i = 0; i < 10; ++i) ok = sequence({ok});
  EXPECT_NO_THROW(validate_tree(ok));
}

TEST(DerReader, TruncationsOfAValidTreeNeverCrash) {
  const Bytes v = sequence({oid("1.2.840.113549.1.7.2"), explicit_tag(0, sequence({integer(1), set_of({null()}),
                                                                                   octet_string(Bytes(300, 1))}))});
  for (std::size_t n = 0; n < v.size(); ++n) {
    const Bytes cut(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
    SCOPED_TRACE(n);
    EXPECT_SIGIL_ERROR(validate_tree(cut), Errc::invalid_document);
  }
  // every single-byte corruption: either still valid or a clean Error
  for (std::size_t i = 0; i < v.size(); ++i) {
    Bytes c = v;
    c[i] ^= 0x5a;
    try {
      validate_tree(c);
    } catch (const Error& err) {
      EXPECT_EQ(err.code(), Errc::invalid_document);
    }
  }
}

}  // namespace
}  // namespace sigil::asn1

namespace sigil::asn1 {
namespace {

// UUID-based OIDs (2.25.<128-bit integer>, ITU-T X.667) round-trip, byte-exact against OpenSSL's
// encoding of the same OID (checked with `openssl asn1parse -genstr OID:...`).
TEST(DerOid, ArcsBeyond64BitsRoundTrip) {
  const std::string uuid_oid = "2.25.62699589397180710435648714778098733257";
  const Bytes der = oid(uuid_oid);
  EXPECT_EQ(oid_to_string(ByteView(der).subspan(2)), uuid_oid);
  EXPECT_EQ(hex_encode(der), "061369deabc09bb2cdfa89bfae9ce38c86feaca149");
  for (const std::string o : {"2.25.0", "2.25.18446744073709551615", "2.25.18446744073709551616", "1.2.840.113549.1.1.11"}) {
    EXPECT_EQ(oid_to_string(ByteView(oid(o)).subspan(2)), o);
  }
  EXPECT_THROW(oid("2.25.0123"), Error);
  EXPECT_THROW(oid("2.25." + std::string(41, '9')), Error);
}

}  // namespace
}  // namespace sigil::asn1
