// The minimal PDF reader/writer on its own: object syntax, xref flavours, bounded failures.
#include <gtest/gtest.h>

#include "pades/pdf_file.hpp"
#include "pades/pdf_object.hpp"
#include "sigil/common/error.hpp"
#include "test_util.hpp"

namespace sigil::pades::pdf {
namespace {

Object parse(std::string_view s) {
  MemorySource src(s);
  Parser p(src, 0);
  return p.parse_object();
}

TEST(PdfObject, ParsesAndRewritesEveryKind) {
  const Object o = parse("<</A 1 /B -2.50 /C (a\\(b\\)c\\n) /D <48656C6C6F> /E /N#20x /F [1 0 R true null 3] /G <<>>>>");
  ASSERT_TRUE(o.is_dict());
  EXPECT_EQ(o.get("A").as_int(), 1);
  EXPECT_EQ(o.get("B").text(), "-2.50");
  EXPECT_EQ(o.get("C").text(), "a(b)c\n");
  EXPECT_EQ(o.get("D").text(), "Hello");
  EXPECT_EQ(o.get("E").text(), "N x");
  ASSERT_TRUE(o.get("F").is_array());
  EXPECT_TRUE(o.get("F").items()[0].is_ref());
  EXPECT_EQ(o.get("F").items()[0].as_ref().num, 1u);
  EXPECT_EQ(o.get("F").items().size(), 4u);
  EXPECT_EQ(to_pdf(o), "<</A 1/B -2.50/C (a\\(b\\)c\\n)/D <48656C6C6F>/E /N#20x/F [1 0 R true null 3]/G <<>>>>");
  EXPECT_EQ(to_pdf(parse(to_pdf(o))), to_pdf(o));
}

TEST(PdfObject, MalformedInputThrowsInvalidDocument) {
  for (const char* s : {"<</A", "[1 2", "(abc", "<4G>", "<</A 1 2>>", ")", "foo", "", "<<(k) 1>>", "<</A 1 R>>"}) {
    EXPECT_SIGIL_ERROR(parse(s), Errc::invalid_document);
  }
  std::string deep(1000, '[');
  EXPECT_SIGIL_ERROR(parse(deep), Errc::invalid_document);
}

TEST(PdfObject, TwoIntegersAreNotAReference) {
  const Object o = parse("[1 2 3 R 4 5]");
  ASSERT_EQ(o.items().size(), 4u);
  EXPECT_TRUE(o.items()[0].is_int());
  EXPECT_TRUE(o.items()[1].is_ref());
  EXPECT_EQ(o.items()[1].as_ref().num, 2u);
}

TEST(PdfObject, DateIsPdfSyntax) { EXPECT_EQ(pdf_date(1800000000), "D:20270115080000+00'00'"); }

TEST(PdfZlib, RoundTripAndBound) {
  const std::string data(100000, 'x');
  EXPECT_EQ(inflate(deflate(data), 1 << 20), data);
  EXPECT_SIGIL_ERROR(inflate(deflate(data), 1000), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(inflate("not zlib at all", 1000), Errc::invalid_document);
}

}  // namespace
}  // namespace sigil::pades::pdf
