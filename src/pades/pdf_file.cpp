#include "pades/pdf_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "sigil/common/error.hpp"

namespace sigil::pades::pdf {
namespace {

constexpr std::size_t kBlock = 64 * 1024;
constexpr int kMaxSections = 4096;
constexpr std::size_t kMaxObjects = 8388607;  // ISO 32000-1 Annex C's implementation limit

[[noreturn]] void bad(const std::string& what) { throw Error(Errc::invalid_document, what); }

}  // namespace

// ------------------------------------------------------------------------------------ FileSource

FileSource::FileSource(const std::filesystem::path& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(Errc::io, "cannot open " + path.string() + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(Errc::io, "not a regular file: " + path.string());
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

int FileSource::at(std::uint64_t pos) {
  if (pos >= size_) return -1;
  if (pos < block_pos_ || pos >= block_pos_ + block_.size()) {
    block_pos_ = pos - pos % kBlock;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, size_ - block_pos_));
    block_ = read(block_pos_, n);
  }
  return static_cast<unsigned char>(block_[pos - block_pos_]);
}

std::string FileSource::read(std::uint64_t pos, std::size_t n) {
  if (pos > size_ || n > size_ - pos) bad("read past the end of the file");
  std::string buf(n, '\0');
  std::size_t done = 0;
  while (done < n) {
    const auto r = ::pread(fd_, buf.data() + done, n - done, static_cast<off_t>(pos + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Error(Errc::io, std::string("read: ") + std::strerror(errno));
    if (r == 0) bad("file shrank while reading");
    done += static_cast<std::size_t>(r);
  }
  return buf;
}

// ------------------------------------------------------------------------------------ zlib

std::string inflate(std::string_view data, std::size_t max_size) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw Error(Errc::internal, "inflateInit");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = ::inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      inflateEnd(&zs);
      bad("corrupt FlateDecode stream");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_size) {
      inflateEnd(&zs);
      bad("decoded stream too large");
    }
    if (rc == Z_BUF_ERROR || (zs.avail_in == 0 && zs.avail_out != 0 && rc != Z_STREAM_END)) break;
  }
  inflateEnd(&zs);
  return out;
}

std::string deflate(std::string_view data) {
  uLongf n = compressBound(static_cast<uLong>(data.size()));
  std::string out(n, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(data.data()),
                static_cast<uLong>(data.size()), 6) != Z_OK)
    throw Error(Errc::internal, "deflate failed");
  out.resize(n);
  return out;
}

std::string png_unpredict(const std::string& in, std::int64_t columns, std::int64_t colors, std::int64_t bpc) {
  if (columns <= 0 || columns > (1 << 20) || colors <= 0 || colors > 32 || (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16))
    bad("bad predictor parameters");
  const auto rowlen = static_cast<std::size_t>((columns * colors * bpc + 7) / 8);
  const auto bpp = static_cast<std::size_t>(std::max<std::int64_t>(1, colors * bpc / 8));
  std::string out;
  std::string prev(rowlen, '\0');
  std::size_t pos = 0;
  while (pos + 1 + rowlen <= in.size()) {
    const int type = static_cast<unsigned char>(in[pos]);
    std::string row = in.substr(pos + 1, rowlen);
    for (std::size_t i = 0; i < rowlen; ++i) {
      const int a = i >= bpp ? static_cast<unsigned char>(row[i - bpp]) : 0;
      const int b = static_cast<unsigned char>(prev[i]);
      const int c = i >= bpp ? static_cast<unsigned char>(prev[i - bpp]) : 0;
      int x = static_cast<unsigned char>(row[i]);
      switch (type) {
        case 0: break;
        case 1: x += a; break;
        case 2: x += b; break;
        case 3: x += (a + b) / 2; break;
        case 4: {
          const int p = a + b - c;
          const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          x += (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default: bad("bad PNG predictor row type");
      }
      row[i] = static_cast<char>(x & 0xff);
    }
    out += row;
    prev = std::move(row);
    pos += 1 + rowlen;
  }
  return out;
}

// ------------------------------------------------------------------------------------ Document

Document::Document(const std::filesystem::path& path, const SecretString* password) : src_(path) {
  const auto head = src_.read(0, static_cast<std::size_t>(std::min<std::uint64_t>(1024, src_.size())));
  const auto h = head.find("%PDF-");
  if (h == std::string::npos) bad("not a PDF file (no %PDF- header)");
  version_ = head.substr(h + 5, 3);
  read_xref_chain();
  if (!trailer_.get("Root").is_ref()) bad("trailer without /Root");
  const Object& enc = trailer_.get("Encrypt");
  if (!enc.is_null()) {
    // The /Encrypt dictionary and the trailer /ID are never encrypted; crypt_ is still null here.
    if (enc.is_ref()) encrypt_num_ = enc.as_ref().num;
    const Object dict = resolve(enc);
    std::string id0;
    const Object& id = trailer_.get("ID");
    if (id.is_array() && !id.items().empty() && id.items()[0].is_string()) id0 = id.items()[0].text();
    crypt_ = SecurityHandler::open(dict, id0, password);
  }
}

void Document::check_can_sign() const {
  if (!can_sign())
    throw Error(Errc::document_locked, "the document's permissions forbid signing; give the owner password", true);
}

void Document::decrypt_object(Ref r, Object& o) const {
  if (crypt_ == nullptr || r.num == encrypt_num_) return;
  if (o.is_dict() && o.get("Type").is_name("XRef")) return;  // xref streams are never encrypted
  crypt_strings(*crypt_, r, o, false);
}

std::uint32_t Document::next_object_number() const {
  std::uint32_t n = max_num_ + 1;
  const Object& s = trailer_.get("Size");
  if (s.is_int() && s.as_int() > 0 && s.as_int() < (1LL << 31)) n = std::max(n, static_cast<std::uint32_t>(s.as_int()));
  return n;
}

void Document::read_xref_chain() {
  const std::uint64_t size = src_.size();
  const auto tail_len = static_cast<std::size_t>(std::min<std::uint64_t>(size, 4096));
  const std::string tail = src_.read(size - tail_len, tail_len);
  const auto sx = tail.rfind("startxref");
  if (sx == std::string::npos || tail.find("%%EOF", sx) == std::string::npos)
    bad("no startxref/%%EOF at the end (truncated file?)");
  Parser p(src_, size - tail_len + sx + 9);
  const auto off = p.parse_int();
  if (off <= 0 || static_cast<std::uint64_t>(off) >= size) bad("startxref out of range");
  startxref_ = static_cast<std::uint64_t>(off);

  std::vector<std::uint64_t> todo{startxref_};
  std::set<std::uint64_t> seen;
  bool first = true;
  while (!todo.empty()) {
    const auto at = todo.front();
    todo.erase(todo.begin());
    if (!seen.insert(at).second) continue;  // a /Prev loop
    if (static_cast<int>(seen.size()) > kMaxSections) bad("too many xref sections");
    std::vector<std::uint64_t> more;
    Parser q(src_, at);
    q.skip_ws();
    const bool table = q.accept_keyword("xref");
    if (table) {
      Object trailer;
      {
        // classic table
        for (;;) {
          q.skip_ws();
          if (q.accept_keyword("trailer")) break;
          const auto start = q.parse_int();
          const auto count = q.parse_int();
          if (start < 0 || count < 0 || start + count > (1LL << 31)) bad("bad xref subsection");
          for (std::int64_t i = 0; i < count; ++i) {
            const auto o = q.parse_int();
            const auto g = q.parse_int();
            q.skip_ws();
            const int c = src_.at(q.pos());
            if (c != 'n' && c != 'f') bad("bad xref entry");
            q.seek(q.pos() + 1);
            const auto num = static_cast<std::uint32_t>(start + i);
            if (xref_.contains(num)) continue;
            XrefEntry e;
            e.type = c == 'n' ? 1 : 0;
            e.field2 = static_cast<std::uint64_t>(std::max<std::int64_t>(o, 0));
            e.field3 = static_cast<std::uint32_t>(std::clamp<std::int64_t>(g, 0, 65535));
            if (e.type == 1 && (o <= 0 || static_cast<std::uint64_t>(o) >= size)) e.type = 0;
            xref_.emplace(num, e);
            if (xref_.size() > kMaxObjects) bad("too many objects");
            if (e.type == 1) max_num_ = std::max(max_num_, num);
          }
        }
        trailer = q.parse_object();
        if (!trailer.is_dict()) bad("trailer is not a dictionary");
      }
      const Object& xs = trailer.get("XRefStm");
      if (xs.is_int() && xs.as_int() > 0) read_xref_stream(static_cast<std::uint64_t>(xs.as_int()), nullptr, more);
      const Object& prev = trailer.get("Prev");
      if (prev.is_int() && prev.as_int() > 0 && static_cast<std::uint64_t>(prev.as_int()) < size)
        more.push_back(static_cast<std::uint64_t>(prev.as_int()));
      if (first) trailer_ = trailer;
    } else {
      Object trailer;
      read_xref_stream(at, &trailer, more);
      if (first) {
        trailer_ = trailer;
        xref_stream_ = true;
      }
    }
    first = false;
    // /Prev sections are older: processed after the current one.
    todo.insert(todo.end(), more.begin(), more.end());
  }
}

void Document::read_xref_stream(std::uint64_t offset, Object* trailer_out, std::vector<std::uint64_t>& more) {
  std::uint64_t start = 0;
  const Object dict = parse_indirect_at(offset, Ref{}, &start);
  if (!dict.is_dict() || !dict.get("Type").is_name("XRef") || start == 0) bad("startxref does not point to an xref");
  const std::string data = read_stream_data(dict, start, 128u << 20);
  const Object& w = dict.get("W");
  if (!w.is_array() || w.items().size() != 3) bad("xref stream without /W");
  std::int64_t ws[3];
  for (int i = 0; i < 3; ++i) {
    ws[i] = w.items()[static_cast<std::size_t>(i)].is_int() ? w.items()[static_cast<std::size_t>(i)].as_int() : -1;
    if (ws[i] < 0 || ws[i] > 8) bad("bad /W in xref stream");
  }
  const auto entry_len = static_cast<std::size_t>(ws[0] + ws[1] + ws[2]);
  if (entry_len == 0) bad("bad /W in xref stream");
  const Object& size_obj = dict.get("Size");
  if (!size_obj.is_int() || size_obj.as_int() < 0) bad("xref stream without /Size");
  std::vector<std::int64_t> index;
  const Object& idx = dict.get("Index");
  if (idx.is_array()) {
    for (const auto& x : idx.items()) index.push_back(x.is_int() ? x.as_int() : -1);
  } else {
    index = {0, size_obj.as_int()};
  }
  if (index.size() % 2 != 0) bad("bad /Index in xref stream");
  std::size_t pos = 0;
  auto field = [&](int which) -> std::uint64_t {
    std::uint64_t v = 0;
    for (std::int64_t i = 0; i < ws[which]; ++i) v = (v << 8) | static_cast<unsigned char>(data[pos++]);
    return v;
  };
  for (std::size_t k = 0; k < index.size(); k += 2) {
    const auto first = index[k], count = index[k + 1];
    if (first < 0 || count < 0 || first + count > (1LL << 31)) bad("bad /Index in xref stream");
    for (std::int64_t i = 0; i < count; ++i) {
      if (pos + entry_len > data.size()) bad("xref stream data too short");
      XrefEntry e;
      e.type = ws[0] == 0 ? 1 : static_cast<std::uint8_t>(field(0));
      e.field2 = field(1);
      e.field3 = static_cast<std::uint32_t>(field(2));
      const auto num = static_cast<std::uint32_t>(first + i);
      if (e.type > 2) continue;  // reserved types are null references
      if (e.type == 1 && (e.field2 == 0 || e.field2 >= src_.size())) e.type = 0;
      if (xref_.contains(num)) continue;
      xref_.emplace(num, e);
      if (xref_.size() > kMaxObjects) bad("too many objects");
      if (e.type != 0) max_num_ = std::max(max_num_, num);
    }
  }
  const Object& prev = dict.get("Prev");
  if (prev.is_int() && prev.as_int() > 0 && static_cast<std::uint64_t>(prev.as_int()) < src_.size())
    more.push_back(static_cast<std::uint64_t>(prev.as_int()));
  if (trailer_out != nullptr) *trailer_out = dict;
}

Object Document::parse_indirect_at(std::uint64_t offset, Ref expect, std::uint64_t* stream_start) {
  Parser p(src_, offset);
  const Ref r = p.parse_obj_header();
  if (expect.num != 0 && r.num != expect.num) bad("xref offset points to the wrong object");
  Object o = p.parse_object();
  if (stream_start != nullptr) *stream_start = p.at_stream_keyword() ? p.pos() : 0;
  return o;
}

std::string Document::read_stream_data(const Object& dict, std::uint64_t start, std::size_t max_size,
                                       const Ref* crypt_as) {
  const Object len = resolve(dict.get("Length"));
  if (!len.is_int() || len.as_int() < 0 || start + static_cast<std::uint64_t>(len.as_int()) > src_.size())
    bad("bad stream /Length");
  if (static_cast<std::uint64_t>(len.as_int()) > max_size) bad("stream too large");
  std::string raw = src_.read(start, static_cast<std::size_t>(len.as_int()));
  Object filter = resolve(dict.get("Filter"));
  Object parms = resolve(dict.get("DecodeParms"));
  if (crypt_ != nullptr && crypt_as != nullptr && crypt_as->num != encrypt_num_ && !dict.get("Type").is_name("XRef")) {
    // Decryption comes before the filters (ISO 32000-1 §7.6.2). A /Crypt filter first in the chain
    // names the crypt filter of this stream; metadata stays plain with /EncryptMetadata false.
    auto method = crypt_->stream_method();
    if (dict.get("Type").is_name("Metadata") && !crypt_->encrypt_metadata()) method = SecurityHandler::Method::identity;
    const bool chain = filter.is_array();
    const Object first = chain ? (filter.items().empty() ? Object{} : filter.items()[0]) : filter;
    if (first.is_name("Crypt")) {
      const Object p =
          chain ? (parms.is_array() && !parms.items().empty() ? resolve(parms.items()[0]) : Object{}) : parms;
      const Object& n = p.get("Name");
      method = crypt_->filter_method(n.is_name() ? n.text() : "Identity");
      if (chain) {
        filter.items().erase(filter.items().begin());
        if (parms.is_array() && !parms.items().empty()) parms.items().erase(parms.items().begin());
      } else {
        filter = Object{};
        parms = Object{};
      }
    }
    raw = crypt_->decrypt(*crypt_as, raw, method);
  }
  if (filter.is_array()) {
    if (filter.items().empty()) filter = Object{};
    else if (filter.items().size() == 1) filter = filter.items()[0];
    else throw Error(Errc::unsupported, "filter chains are not supported here");
    if (parms.is_array()) parms = parms.items().empty() ? Object{} : parms.items()[0];
  }
  if (filter.is_null()) return raw;
  if (!filter.is_name("FlateDecode")) throw Error(Errc::unsupported, "unsupported stream filter /" + filter.text());
  std::string out = inflate(raw, max_size);
  if (parms.is_dict()) {
    const Object& pred = parms.get("Predictor");
    const std::int64_t predictor = pred.is_int() ? pred.as_int() : 1;
    auto num = [&](const char* k, std::int64_t d) {
      const Object& v = parms.get(k);
      return v.is_int() ? v.as_int() : d;
    };
    if (predictor >= 10) {
      out = png_unpredict(out, num("Columns", 1), num("Colors", 1), num("BitsPerComponent", 8));
    } else if (predictor != 1) {
      throw Error(Errc::unsupported, "TIFF predictor not supported");
    }
  }
  return out;
}

std::optional<std::uint64_t> Document::offset_of(std::uint32_t num) const {
  const auto it = xref_.find(num);
  if (it == xref_.end() || it->second.type != 1) return std::nullopt;
  return it->second.field2;
}

bool Document::has_object(std::uint32_t num) const {
  const auto it = xref_.find(num);
  return it != xref_.end() && it->second.type != 0;
}

Object Document::get(Ref r) {
  const auto it = xref_.find(r.num);
  if (it == xref_.end() || it->second.type == 0) return Object{};
  if (resolve_depth_ >= 32) bad("reference chain too deep");
  ++resolve_depth_;
  struct Guard {
    int& d;
    ~Guard() { --d; }
  } guard{resolve_depth_};
  const XrefEntry e = it->second;
  if (e.type == 1) {
    Object o = parse_indirect_at(e.field2, r, nullptr);
    decrypt_object(Ref{r.num, e.field3}, o);  // objects inside object streams are not encrypted themselves
    return o;
  }
  return object_from_objstm(static_cast<std::uint32_t>(e.field2), e.field3, r.num);
}

Object Document::resolve(const Object& o) {
  if (!o.is_ref()) return o;
  return get(o.as_ref());
}

Stream Document::get_stream(Ref r, std::size_t max_size) {
  const auto off = offset_of(r.num);
  if (!off) bad("stream object " + std::to_string(r.num) + " not found");
  std::uint64_t start = 0;
  Stream s;
  s.dict = parse_indirect_at(*off, r, &start);
  if (!s.dict.is_dict() || start == 0) bad("object " + std::to_string(r.num) + " is not a stream");
  const Ref key{r.num, xref_.at(r.num).field3};
  decrypt_object(key, s.dict);
  s.data = read_stream_data(s.dict, start, max_size, &key);
  return s;
}

Object Document::object_from_objstm(std::uint32_t stm, std::uint32_t index, std::uint32_t num) {
  if (!objstm_ || objstm_num_ != stm) {
    const auto it = xref_.find(stm);
    if (it == xref_.end() || it->second.type != 1) bad("object stream " + std::to_string(stm) + " not found");
    objstm_ = std::make_shared<Stream>(get_stream(Ref{stm, 0}));
    objstm_num_ = stm;
  }
  const Stream& s = *objstm_;
  const Object& n = s.dict.get("N");
  const Object& first = s.dict.get("First");
  if (!n.is_int() || !first.is_int() || first.as_int() < 0 || static_cast<std::int64_t>(index) >= n.as_int())
    bad("bad object stream");
  MemorySource ms(s.data);
  Parser p(ms, 0);
  std::int64_t off = -1;
  for (std::uint32_t i = 0; i <= index; ++i) {
    const auto onum = p.parse_int();
    const auto ooff = p.parse_int();
    if (i == index) {
      if (onum != num) bad("object stream index mismatch");
      off = ooff;
    }
  }
  if (off < 0 || static_cast<std::uint64_t>(first.as_int() + off) >= s.data.size()) bad("bad object stream offset");
  p.seek(static_cast<std::uint64_t>(first.as_int() + off));
  return p.parse_object();
}

Object Document::catalog() {
  Object c = get(trailer_.get("Root").as_ref());
  if (!c.is_dict()) bad("no document catalog");
  return c;
}

unsigned Document::page_count() {
  const Object pages = resolve(catalog().get("Pages"));
  const Object& c = pages.get("Count");
  return c.is_int() && c.as_int() > 0 ? static_cast<unsigned>(c.as_int()) : 0;
}

Ref Document::page_ref(unsigned index) {
  Object node_ref = catalog().get("Pages");
  if (index == 0) bad("page numbers start at 1");
  for (int depth = 0; depth < 64; ++depth) {
    if (!node_ref.is_ref()) bad("page tree node is not a reference");
    const Object node = get(node_ref.as_ref());
    if (!node.is_dict()) bad("broken page tree");
    const Object& kids = node.get("Kids");
    if (!kids.is_array()) {
      if (index == 1) return node_ref.as_ref();
      bad("page index beyond the page tree");
    }
    bool descended = false;
    for (const auto& k : kids.items()) {
      const Object kid = resolve(k);
      std::uint64_t count = 1;
      if (kid.get("Kids").is_array()) {
        const Object& c = kid.get("Count");
        count = c.is_int() && c.as_int() > 0 ? static_cast<std::uint64_t>(c.as_int()) : 0;
      }
      if (index <= count) {
        node_ref = k;
        descended = true;
        break;
      }
      index -= static_cast<unsigned>(count);
    }
    if (!descended) throw Error(Errc::invalid_argument, "the document has fewer pages than requested", true);
  }
  bad("page tree too deep");
}

}  // namespace sigil::pades::pdf
