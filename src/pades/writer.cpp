#include "pades/writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ossl/digest.hpp"
#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "sigil/common/error.hpp"

namespace sigil::pades::pdf {
namespace {

constexpr std::string_view kByteRangePlaceholder = "[0 0000000000 0000000000 0000000000]";
constexpr std::size_t kChunk = 1 << 20;

[[noreturn]] void io_fail(const std::string& what) { throw Error(Errc::io, what + ": " + std::strerror(errno)); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = o.release();
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() {
    const int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

void pwrite_all(int fd, const char* data, std::size_t n, std::uint64_t at) {
  while (n > 0) {
    const auto w = ::pwrite(fd, data, n, static_cast<off_t>(at));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) io_fail("write");
    data += w;
    n -= static_cast<std::size_t>(w);
    at += static_cast<std::uint64_t>(w);
  }
}

class Hasher {
 public:
  explicit Hasher(HashAlg alg) : ctx_(EVP_MD_CTX_new()) {
    ossl::check(ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), ossl::md(alg), nullptr) == 1, "digest init");
  }
  void update(const char* p, std::size_t n) { ossl::check(EVP_DigestUpdate(ctx_.get(), p, n) == 1, "digest"); }
  Bytes final() {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned n = 0;
    ossl::check(EVP_DigestFinal_ex(ctx_.get(), out.data(), &n) == 1, "digest final");
    out.resize(n);
    return out;
  }

 private:
  ossl::MdCtx ctx_;
};

// Copies (or just reads, when `out` < 0) the first `n` bytes of `in`, feeding `hasher` if given.
void copy_prefix(int in, std::uint64_t n, int out, Hasher* hasher) {
  std::vector<char> buf(kChunk);
  std::uint64_t pos = 0;
  while (pos < n) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, n - pos));
    const auto r = ::pread(in, buf.data(), want, static_cast<off_t>(pos));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) io_fail("read");
    if (r == 0) throw Error(Errc::io, "input file shrank while being copied");
    const auto got = static_cast<std::size_t>(r);
    if (hasher != nullptr) hasher->update(buf.data(), got);
    if (out >= 0) pwrite_all(out, buf.data(), got, pos);
    pos += got;
  }
}

struct Target {
  Fd fd{-1};
  std::uint64_t base = 0;  // where the update goes
};

Target open_target(Document& doc, const std::filesystem::path& output, bool in_place, Hasher* hasher) {
  Target t;
  t.base = doc.size();
  if (in_place) {
    t.fd = Fd(::open(output.c_str(), O_WRONLY | O_CLOEXEC));
    if (t.fd.get() < 0) io_fail("open " + output.string());
    struct stat st{};
    if (::fstat(t.fd.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != doc.size())
      throw Error(Errc::io, "the file changed while it was being updated");
    if (hasher != nullptr) copy_prefix(doc.source().fd(), doc.size(), -1, hasher);
  } else {
    t.fd = Fd(::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (t.fd.get() < 0) io_fail("create " + output.string());
    copy_prefix(doc.source().fd(), doc.size(), t.fd.get(), hasher);
  }
  return t;
}

void finish_target(Target& t) {
  if (::fsync(t.fd.get()) != 0) io_fail("fsync");
  if (::close(t.fd.release()) != 0) io_fail("close");
}

}  // namespace

Update::Update(Document& doc) : doc_(doc), next_(doc.next_object_number()) {}

std::uint32_t Update::allocate() { return next_++; }

namespace {

// The stream data of `dict` as written for object `r` of an encrypted document.
std::string encrypt_stream_data(const SecurityHandler& h, Ref r, const Object& dict, const std::string& data) {
  if (dict.get("Type").is_name("Metadata") && !h.encrypt_metadata()) return data;
  return h.encrypt(r, data, h.stream_method());
}

// A copy of `o` with its strings encrypted for object `r` (signature /Contents left alone).
Object encrypted(const SecurityHandler& h, Ref r, Object o) {
  crypt_strings(h, r, o, true);
  return o;
}

// A serialized body (ours) re-serialized with its strings and stream data encrypted.
std::string encrypt_body(const SecurityHandler& h, Ref r, const std::string& body) {
  MemorySource ms(body);
  Parser p(ms, 0);
  Object o = p.parse_object();
  if (p.at_stream_keyword()) {
    const auto end = body.rfind("endstream");
    if (end == std::string::npos || end < p.pos()) throw Error(Errc::internal, "stream body without endstream");
    std::size_t data_end = end;
    if (data_end > p.pos() && body[data_end - 1] == '\n') --data_end;
    if (data_end > p.pos() && body[data_end - 1] == '\r') --data_end;
    const std::string data =
        body.substr(static_cast<std::size_t>(p.pos()), data_end - static_cast<std::size_t>(p.pos()));
    const std::string enc = encrypt_stream_data(h, r, o, data);
    return stream_body(encrypted(h, r, std::move(o)), enc);
  }
  // A fresh signature dictionary keeps its fixed-width /ByteRange placeholder (reals keep their text).
  const bool placeholder = is_signature_dict(o) && body.find(std::string("/ByteRange ") +
                                                             std::string(kByteRangePlaceholder)) != std::string::npos;
  o = encrypted(h, r, std::move(o));
  if (placeholder)
    o.set("ByteRange", Object::array({Object::integer(0), Object::real_text("0000000000"),
                                      Object::real_text("0000000000"), Object::real_text("0000000000")}));
  return to_pdf(o);
}

}  // namespace

void Update::put(Ref r, std::string body) {
  if (const SecurityHandler* h = doc_.crypt()) body = encrypt_body(*h, r, body);
  objects_[r.num] = {r.gen, std::move(body)};
}

void Update::put(Ref r, const Object& o) {
  const SecurityHandler* h = doc_.crypt();
  objects_[r.num] = {r.gen, h != nullptr ? to_pdf(encrypted(*h, r, o)) : to_pdf(o)};
}

Ref Update::add(const Object& o) {
  const Ref r{allocate(), 0};
  put(r, o);
  return r;
}

std::string stream_body(Object dict, const std::string& data) {
  dict.set("Length", Object::integer(static_cast<std::int64_t>(data.size())));
  std::string s = to_pdf(dict);
  s += "\nstream\n";
  s += data;
  s += "\nendstream";
  return s;
}

Ref Update::add_stream(Object dict, const std::string& data) {
  const Ref r{allocate(), 0};
  if (const SecurityHandler* h = doc_.crypt()) {
    const std::string enc = encrypt_stream_data(*h, r, dict, data);
    objects_[r.num] = {r.gen, stream_body(encrypted(*h, r, std::move(dict)), enc)};
  } else {
    objects_[r.num] = {r.gen, stream_body(std::move(dict), data)};
  }
  return r;
}

Update::Built Update::build() const {
  Built b;
  const int last = doc_.size() > 0 ? doc_.source().at(doc_.size() - 1) : '\n';
  if (last != '\n' && last != '\r') b.bytes += "\n";
  for (const auto& [num, v] : objects_) {
    b.offsets[num] = b.bytes.size();
    b.bytes += std::to_string(num) + " " + std::to_string(v.first) + " obj\n";
    b.bytes += v.second;
    b.bytes += "\nendobj\n";
  }
  const std::uint64_t base = doc_.size();
  const Object& old = doc_.trailer();
  Object trailer = Object::dict();
  for (const char* k : {"Root", "Info", "ID", "Encrypt"})
    if (const Object* v = old.find(k)) trailer.set(k, *v);
  trailer.set("Prev", Object::integer(static_cast<std::int64_t>(doc_.startxref())));

  // Runs of consecutive object numbers.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> runs;  // first, count
  auto add_run = [&runs](std::uint32_t num) {
    if (!runs.empty() && runs.back().first + runs.back().second == num) ++runs.back().second;
    else runs.emplace_back(num, 1);
  };
  const std::uint64_t xref_at = base + b.bytes.size();
  if (doc_.xref_is_stream()) {
    const std::uint32_t xnum = next_;
    std::map<std::uint32_t, std::uint64_t> entries;
    for (const auto& [num, off] : b.offsets) entries[num] = base + off;
    entries[xnum] = xref_at;
    std::string data;
    std::vector<std::uint32_t> gens;
    for (const auto& [num, off] : entries) {
      add_run(num);
      const auto it = objects_.find(num);
      const std::uint32_t gen = it != objects_.end() ? it->second.first : 0;
      data.push_back(1);
      for (int i = 4; i >= 0; --i) data.push_back(static_cast<char>((off >> (8 * i)) & 0xff));
      data.push_back(static_cast<char>((gen >> 8) & 0xff));
      data.push_back(static_cast<char>(gen & 0xff));
    }
    Object idx = Object::array();
    for (const auto& [f, c] : runs) {
      idx.items().push_back(Object::integer(f));
      idx.items().push_back(Object::integer(c));
    }
    trailer.set("Type", Object::name("XRef"));
    trailer.set("Size", Object::integer(std::max<std::int64_t>(xnum + 1, doc_.next_object_number())));
    trailer.set("Index", idx);
    trailer.set("W", Object::array({Object::integer(1), Object::integer(5), Object::integer(2)}));
    b.bytes += std::to_string(xnum) + " 0 obj\n" + stream_body(trailer, data) + "\nendobj\n";
  } else {
    for (const auto& [num, off] : b.offsets) add_run(num);
    b.bytes += "xref\n";
    auto it = b.offsets.begin();
    for (const auto& [f, c] : runs) {
      b.bytes += std::to_string(f) + " " + std::to_string(c) + "\n";
      for (std::uint32_t i = 0; i < c; ++i, ++it) {
        const auto o = objects_.find(it->first);
        char line[32];
        std::snprintf(line, sizeof line, "%010llu %05u n\r\n", static_cast<unsigned long long>(base + it->second),
                      o->second.first);
        b.bytes += line;
      }
    }
    trailer.set("Size", Object::integer(std::max<std::int64_t>(next_, doc_.next_object_number())));
    b.bytes += "trailer\n" + to_pdf(trailer) + "\n";
  }
  b.bytes += "startxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
  return b;
}

std::string signature_dict_body(std::string_view type, std::string_view sub_filter, std::size_t contents_bytes,
                                const std::string& extra) {
  std::string s = "<</Type/";
  s += type;
  s += "/Filter/Adobe.PPKLite/SubFilter/";
  s += sub_filter;
  s += "/ByteRange ";
  s += kByteRangePlaceholder;
  s += "/Contents <";
  s.append(contents_bytes * 2, '0');
  s += ">";
  s += extra;
  s += ">>";
  return s;
}

WrittenRevision write_signature_revision(Document& doc, Update::Built built, std::uint32_t sig_num,
                                         const std::filesystem::path& output, bool in_place, HashAlg alg) {
  const auto obj_it = built.offsets.find(sig_num);
  if (obj_it == built.offsets.end()) throw Error(Errc::internal, "signature object missing from the update");
  const auto br = built.bytes.find(std::string("/ByteRange ") + std::string(kByteRangePlaceholder), obj_it->second);
  const auto lt = built.bytes.find("/Contents <", obj_it->second);
  if (br == std::string::npos || lt == std::string::npos) throw Error(Errc::internal, "signature placeholders missing");
  const std::size_t hole_rel = lt + 10;  // the '<'
  const auto gt = built.bytes.find('>', hole_rel);
  const std::size_t hole_end_rel = gt + 1;
  WrittenRevision w;
  const std::uint64_t base = doc.size();
  w.hole_offset = base + hole_rel;
  w.hole_length = hole_end_rel - hole_rel;
  w.file_size = base + built.bytes.size();
  char range[64];
  const int n = std::snprintf(range, sizeof range, "[0 %llu %llu %llu", static_cast<unsigned long long>(w.hole_offset),
                              static_cast<unsigned long long>(w.hole_offset + w.hole_length),
                              static_cast<unsigned long long>(w.file_size - w.hole_offset - w.hole_length));
  if (n <= 0 || static_cast<std::size_t>(n) + 1 > kByteRangePlaceholder.size())
    throw Error(Errc::document_too_large, "file too large for the /ByteRange placeholder");
  std::string patched(range, static_cast<std::size_t>(n));
  patched.append(kByteRangePlaceholder.size() - patched.size() - 1, ' ');
  patched += "]";
  built.bytes.replace(br + 11, kByteRangePlaceholder.size(), patched);

  Hasher hasher(alg);
  Target t = open_target(doc, output, in_place, &hasher);
  hasher.update(built.bytes.data(), hole_rel);
  hasher.update(built.bytes.data() + hole_end_rel, built.bytes.size() - hole_end_rel);
  pwrite_all(t.fd.get(), built.bytes.data(), built.bytes.size(), t.base);
  finish_target(t);
  w.digest = hasher.final();
  return w;
}

void write_revision(Document& doc, const Update::Built& built, const std::filesystem::path& output, bool in_place) {
  Target t = open_target(doc, output, in_place, nullptr);
  pwrite_all(t.fd.get(), built.bytes.data(), built.bytes.size(), t.base);
  finish_target(t);
}

}  // namespace sigil::pades::pdf
