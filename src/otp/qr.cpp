// QR code PNG for otpauth:// URIs: libqrencode for the matrix, libpng for the image.
#include "sigil/common/error.hpp"
#include "sigil/otp/totp.hpp"

#ifdef SIGIL_HAVE_QRENCODE
#include <png.h>
#include <qrencode.h>

#include <csetjmp>
#include <memory>
#endif

namespace sigil::otp {

#ifdef SIGIL_HAVE_QRENCODE
namespace {

struct QrFree {
  void operator()(QRcode* q) const noexcept { QRcode_free(q); }
};

void png_append(png_structp png, png_bytep data, png_size_t len) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + len);
}
void png_flush_noop(png_structp) {}

}  // namespace

Bytes qr_png(std::string_view text, unsigned scale) {
  if (scale == 0 || scale > 32) throw Error(Errc::invalid_argument, "QR scale must be 1..32");
  const std::string s(text);
  std::unique_ptr<QRcode, QrFree> qr(QRcode_encodeString(s.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) throw Error(Errc::internal, "QRcode_encodeString failed");
  constexpr unsigned kQuiet = 4;
  const unsigned modules = static_cast<unsigned>(qr->width) + 2 * kQuiet;
  const unsigned size = modules * scale;

  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (png == nullptr || info == nullptr) {
    png_destroy_write_struct(&png, &info);
    throw Error(Errc::internal, "libpng: cannot create write struct");
  }
  std::vector<png_byte> row(size);
  // libpng reports errors by longjmp; nothing with a destructor is created between here and the end.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error(Errc::internal, "libpng: write failed");
  }
  png_set_write_fn(png, &out, png_append, png_flush_noop);
  png_set_IHDR(png, info, size, size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const auto w = static_cast<unsigned>(qr->width);
  for (unsigned y = 0; y < size; ++y) {
    const unsigned my = y / scale;
    for (unsigned x = 0; x < size; ++x) {
      const unsigned mx = x / scale;
      bool dark = false;
      if (mx >= kQuiet && my >= kQuiet && mx < kQuiet + w && my < kQuiet + w) {
        dark = (qr->data[(my - kQuiet) * w + (mx - kQuiet)] & 1) != 0;
      }
      row[x] = dark ? 0 : 255;
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

#else

Bytes qr_png(std::string_view, unsigned) {
  throw Error(Errc::unsupported, "built without libqrencode: no QR code; show the otpauth:// URI instead");
}

#endif

}  // namespace sigil::otp
