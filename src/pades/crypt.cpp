#include "pades/crypt.hpp"

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <optional>

#include "sigil/common/error.hpp"

namespace sigil::pades::pdf {
namespace {

// ISO 32000-1 §7.6.3.3, Algorithm 2 step (a).
constexpr std::array<unsigned char, 32> kPad = {0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E,
                                                0x56, 0xFF, 0xFA, 0x01, 0x08, 0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68,
                                                0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A};

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(Errc::invalid_document, "corrupt /Encrypt dictionary: " + what);
}
[[noreturn]] void not_supported(const std::string& what) {
  throw Error(Errc::document_encrypted, "the PDF is encrypted with " + what + ", which is not supported", true);
}

// A string that is wiped when it goes out of scope (keys, hashes, password copies).
struct Wiped {
  std::string s;
  Wiped() = default;
  explicit Wiped(std::string v) : s(std::move(v)) {}
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  ~Wiped() { secure_wipe(s.data(), s.size()); }
  Wiped& operator=(std::string v) {
    secure_wipe(s.data(), s.size());
    s = std::move(v);
    return *this;
  }
};

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// ---- primitives

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (EVP_Digest(data.data(), data.size(), out, &n, md, nullptr) != 1) throw Error(Errc::crypto, "digest failed");
  std::string r(reinterpret_cast<char*>(out), n);
  secure_wipe(out, sizeof out);
  return r;
}
std::string md5(std::string_view d) {
  return digest(EVP_md5(), d);
}

struct CipherCtx {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(c); }  // also cleanses the key schedule
};

// RC4 lives in OpenSSL 3's legacy provider. It is loaded once into a private library context (the
// process-wide default context is left alone); the context is deliberately never freed (it would
// race with OpenSSL's own atexit cleanup).
struct Legacy {
  OSSL_LIB_CTX* ctx = nullptr;
  EVP_CIPHER* rc4 = nullptr;
  Legacy() {
    ctx = OSSL_LIB_CTX_new();
    if (ctx == nullptr) return;
    if (OSSL_PROVIDER_load(ctx, "legacy") == nullptr) return;
    rc4 = EVP_CIPHER_fetch(ctx, "RC4", nullptr);
  }
};

const EVP_CIPHER* rc4_cipher() {
  static const Legacy legacy;
  if (legacy.rc4 == nullptr)
    throw Error(Errc::unsupported,
                "this PDF uses RC4 encryption (R2-R4), which needs OpenSSL's 'legacy' provider; it could not be "
                "loaded (install it or set OPENSSL_MODULES)",
                true);
  return legacy.rc4;
}

std::string rc4(std::string_view key, std::string_view data) {
  CipherCtx c;
  std::string out(data.size(), '\0');
  int n = 0;
  if (c.c == nullptr || EVP_CipherInit_ex2(c.c, rc4_cipher(), nullptr, nullptr, 1, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_key_length(c.c, static_cast<int>(key.size())) != 1 ||
      EVP_CipherInit_ex2(c.c, nullptr, u8(key), nullptr, 1, nullptr) != 1 ||
      EVP_CipherUpdate(c.c, reinterpret_cast<unsigned char*>(out.data()), &n, u8(data),
                       static_cast<int>(data.size())) != 1)
    throw Error(Errc::crypto, "RC4 failed");
  return out;
}

const EVP_CIPHER* aes_cbc(std::size_t key_len) {
  return key_len == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
}

// Raw AES (no padding): CBC with `iv` (ECB when iv is empty).
std::string aes_raw(std::string_view key, std::string_view iv, std::string_view data, bool enc) {
  const EVP_CIPHER* cipher =
      iv.empty() ? (key.size() == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb()) : aes_cbc(key.size());
  CipherCtx c;
  std::string out(data.size() + 16, '\0');
  int n = 0, m = 0;
  if (c.c == nullptr ||
      EVP_CipherInit_ex2(c.c, cipher, u8(key), iv.empty() ? nullptr : u8(iv), enc ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(c.c, 0) != 1 ||
      EVP_CipherUpdate(c.c, reinterpret_cast<unsigned char*>(out.data()), &n, u8(data),
                       static_cast<int>(data.size())) != 1 ||
      EVP_CipherFinal_ex(c.c, reinterpret_cast<unsigned char*>(out.data()) + n, &m) != 1)
    throw Error(Errc::crypto, "AES failed");
  out.resize(static_cast<std::size_t>(n + m));
  return out;
}

// AES-CBC of a PDF string or stream: a 16-byte IV first, PKCS#5 padding.
std::string aes_decrypt(std::string_view key, std::string_view data) {
  if (data.empty() || data.size() == 16) return {};  // nothing, or an IV alone (some writers do this)
  if (data.size() < 32 || data.size() % 16 != 0)
    throw Error(Errc::invalid_document, "AES-encrypted data of a bad length (" + std::to_string(data.size()) + ")");
  CipherCtx c;
  std::string out(data.size(), '\0');
  int n = 0, m = 0;
  const auto body = data.substr(16);
  if (c.c == nullptr || EVP_DecryptInit_ex2(c.c, aes_cbc(key.size()), u8(key), u8(data.substr(0, 16)), nullptr) != 1 ||
      EVP_DecryptUpdate(c.c, reinterpret_cast<unsigned char*>(out.data()), &n, u8(body),
                        static_cast<int>(body.size())) != 1 ||
      EVP_DecryptFinal_ex(c.c, reinterpret_cast<unsigned char*>(out.data()) + n, &m) != 1)
    throw Error(Errc::invalid_document, "AES-encrypted data does not decrypt (wrong key or corrupt padding)");
  out.resize(static_cast<std::size_t>(n + m));
  return out;
}

std::string aes_encrypt(std::string_view key, std::string_view data) {
  std::string iv(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(iv.data()), 16) != 1) throw Error(Errc::crypto, "RAND_bytes failed");
  CipherCtx c;
  std::string out = iv;
  out.resize(16 + data.size() + 16);
  int n = 0, m = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data()) + 16;
  if (c.c == nullptr || EVP_EncryptInit_ex2(c.c, aes_cbc(key.size()), u8(key), u8(iv), nullptr) != 1 ||
      EVP_EncryptUpdate(c.c, o, &n, u8(data), static_cast<int>(data.size())) != 1 ||
      EVP_EncryptFinal_ex(c.c, o + n, &m) != 1)
    throw Error(Errc::crypto, "AES encryption failed");
  out.resize(16 + static_cast<std::size_t>(n + m));
  return out;
}

std::string xor_key(std::string_view key, unsigned char i) {
  std::string k(key);
  for (auto& c : k) c = static_cast<char>(static_cast<unsigned char>(c) ^ i);
  return k;
}

// ---- R2..R4 (ISO 32000-1 §7.6.3.3, §7.6.3.4)

std::string pad_password(std::string_view pw) {
  std::string p;
  p.reserve(32);  // no reallocation: no unwiped copy left behind
  p.append(pw.substr(0, 32));
  p.append(reinterpret_cast<const char*>(kPad.data()), 32 - p.size());
  return p;
}

struct Params {
  int v = 0, r = 0;
  std::int32_t p = 0;
  std::size_t n = 5;  // key length in bytes
  bool encrypt_metadata = true;
  std::string o, u, oe, ue, perms, id0;
};

// Algorithm 2: the file key from a (padded) user password.
std::string key_r4(const Params& a, std::string_view padded) {
  std::string in;
  in.reserve(padded.size() + 40 + a.id0.size());
  in += padded;
  in += a.o.substr(0, 32);
  for (int i = 0; i < 4; ++i) in.push_back(static_cast<char>((static_cast<std::uint32_t>(a.p) >> (8 * i)) & 0xff));
  in += a.id0;
  if (a.r >= 4 && !a.encrypt_metadata) in += "\xff\xff\xff\xff";
  Wiped h(md5(in));
  secure_wipe(in.data(), in.size());
  if (a.r >= 3)
    for (int i = 0; i < 50; ++i) h = md5(std::string_view(h.s).substr(0, a.n));
  return h.s.substr(0, a.r == 2 ? 5 : a.n);
}

// Algorithms 4/5 (6): does `key` reproduce /U?
bool user_key_ok(const Params& a, const std::string& key) {
  if (a.r == 2) {
    const std::string u = rc4(key, std::string_view(reinterpret_cast<const char*>(kPad.data()), 32));
    return constant_time_equal(u, std::string_view(a.u).substr(0, 32));
  }
  std::string x = md5(std::string(reinterpret_cast<const char*>(kPad.data()), 32) + a.id0);
  x = rc4(key, x);
  for (unsigned char i = 1; i <= 19; ++i) {
    Wiped k(xor_key(key, i));
    x = rc4(k.s, x);
  }
  return constant_time_equal(x, std::string_view(a.u).substr(0, 16));
}

// Algorithm 7: the padded user password recovered from /O with the owner password.
std::string user_from_owner(const Params& a, std::string_view owner_pw) {
  Wiped padded(pad_password(owner_pw));
  Wiped h(md5(padded.s));
  if (a.r >= 3)
    for (int i = 0; i < 50; ++i) h = md5(h.s);
  Wiped key(h.s.substr(0, a.r == 2 ? 5 : a.n));
  if (a.r == 2) return rc4(key.s, std::string_view(a.o).substr(0, 32));
  Wiped x(a.o.substr(0, 32));
  for (int i = 19; i >= 0; --i) {
    Wiped k(xor_key(key.s, static_cast<unsigned char>(i)));
    x = rc4(k.s, x.s);
  }
  return x.s;
}

// ---- R5/R6 (ISO 32000-2 §7.6.4.3.3, Algorithm 2.B)

std::string hash_r6(const Params& a, std::string_view pw, std::string_view salt, std::string_view udata) {
  Wiped in;
  in.s.reserve(pw.size() + salt.size() + udata.size());
  in.s += pw;
  in.s += salt;
  in.s += udata;
  Wiped k(digest(EVP_sha256(), in.s));
  if (a.r == 5) return k.s;
  int i = 0;
  for (;;) {
    Wiped k1;
    k1.s.reserve(64 * (pw.size() + 64 + udata.size()));
    for (int j = 0; j < 64; ++j) {
      k1.s += pw;
      k1.s += k.s;
      k1.s += udata;
    }
    Wiped e(aes_raw(std::string_view(k.s).substr(0, 16), std::string_view(k.s).substr(16, 16), k1.s, true));
    unsigned sum = 0;
    for (int j = 0; j < 16; ++j) sum += static_cast<unsigned char>(e.s[static_cast<std::size_t>(j)]);
    const EVP_MD* md = sum % 3 == 0 ? EVP_sha256() : sum % 3 == 1 ? EVP_sha384() : EVP_sha512();
    k = digest(md, e.s);
    ++i;
    if (i >= 64 && static_cast<unsigned char>(e.s.back()) <= i - 32) break;
  }
  return k.s.substr(0, 32);
}

// Algorithms 11/12 (with the key from UE/OE): the file key, or empty when `pw` does not match.
std::string key_r6(const Params& a, std::string_view pw_in, bool as_owner) {
  const std::string_view pw = pw_in.substr(0, 127);
  const std::string_view u48 = std::string_view(a.u).substr(0, 48);
  const std::string_view src = as_owner ? std::string_view(a.o) : std::string_view(a.u);
  const std::string_view udata = as_owner ? u48 : std::string_view();
  Wiped check(hash_r6(a, pw, src.substr(32, 8), udata));
  if (!constant_time_equal(check.s, src.substr(0, 32))) return {};
  Wiped inter(hash_r6(a, pw, src.substr(40, 8), udata));
  return aes_raw(inter.s, std::string(16, '\0'), as_owner ? a.oe : a.ue, false);
}

// UTF-8 → Latin-1 (≈ PDFDocEncoding for the characters people type), when every code point fits.
std::optional<std::string> latin1(std::string_view s) {
  Wiped out;
  out.s.reserve(s.size());
  bool changed = false;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.s.push_back(static_cast<char>(c));
      ++i;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size()) {
      const unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      if (cp > 0xFF) return std::nullopt;
      out.s.push_back(static_cast<char>(cp));
      i += 2;
      changed = true;
    } else {
      return std::nullopt;
    }
  }
  if (!changed) return std::nullopt;
  return out.s;
}

SecurityHandler::Method method_of(const Object& cf, std::string_view name) {
  if (name == "Identity") return SecurityHandler::Method::identity;
  const Object& f = cf.get(name);
  if (!f.is_dict()) corrupt("crypt filter /" + std::string(name) + " is not defined in /CF");
  const Object& cfm = f.get("CFM");
  if (cfm.is_name("V2")) return SecurityHandler::Method::rc4;
  if (cfm.is_name("AESV2")) return SecurityHandler::Method::aes128;
  if (cfm.is_name("AESV3")) return SecurityHandler::Method::aes256;
  if (cfm.is_null() || cfm.is_name("None")) not_supported("crypt filter method /None (an application-specific filter)");
  not_supported("crypt filter method /" + cfm.text());
}

const std::string& str(const Object& d, const char* key, std::size_t min_len) {
  const Object& o = d.get(key);
  if (!o.is_string() || o.text().size() < min_len)
    corrupt(std::string("/") + key + " missing or shorter than " + std::to_string(min_len) + " bytes");
  return o.text();
}

}  // namespace

std::unique_ptr<SecurityHandler> SecurityHandler::open(const Object& enc, std::string_view id0,
                                                       const SecretString* password) {
  if (!enc.is_dict()) corrupt("not a dictionary");
  const Object& filter = enc.get("Filter");
  if (!filter.is_name()) corrupt("no /Filter");
  if (!filter.is_name("Standard")) not_supported("the security handler /" + filter.text());
  Params a;
  const Object& v = enc.get("V");
  const Object& r = enc.get("R");
  a.v = v.is_int() ? static_cast<int>(std::clamp<std::int64_t>(v.as_int(), -1, 100)) : 0;
  if (!r.is_int()) corrupt("no /R");
  a.r = static_cast<int>(std::clamp<std::int64_t>(r.as_int(), -1, 100));
  if (a.v != 1 && a.v != 2 && a.v != 4 && a.v != 5)
    not_supported("the Standard security handler /V " + std::to_string(a.v));
  if (a.r < 2 || a.r > 6) not_supported("the Standard security handler /R " + std::to_string(a.r));
  const Object& p = enc.get("P");
  if (!p.is_int()) corrupt("no /P");
  a.p = static_cast<std::int32_t>(static_cast<std::uint32_t>(p.as_int() & 0xffffffff));
  const Object& em = enc.get("EncryptMetadata");
  if (a.v >= 4 && em.kind() == Object::Kind::boolean) a.encrypt_metadata = em.as_bool();
  a.id0 = std::string(id0);

  auto h = std::unique_ptr<SecurityHandler>(new SecurityHandler);
  h->v_ = a.v;
  h->r_ = a.r;
  h->p_ = a.p;
  h->encrypt_metadata_ = a.encrypt_metadata;
  if (a.v == 1 || a.v == 2) {
    h->str_ = h->stm_ = Method::rc4;
    std::int64_t bits = 40;
    if (a.v == 2 && enc.get("Length").is_int()) bits = enc.get("Length").as_int();
    if (bits < 40 || bits > 128 || bits % 8 != 0) corrupt("bad /Length");
    a.n = static_cast<std::size_t>(bits / 8);
  } else {
    const Object& cf = enc.get("CF");
    const Object& stmf = enc.get("StmF");
    const Object& strf = enc.get("StrF");
    const std::string stm_name = stmf.is_name() ? stmf.text() : "Identity";
    const std::string str_name = strf.is_name() ? strf.text() : "Identity";
    h->stm_ = method_of(cf, stm_name);
    h->str_ = method_of(cf, str_name);
    if (cf.is_dict())
      for (const auto& k : cf.keys()) {
        const Object& f = cf.get(k);
        const Object& cfm = f.get("CFM");
        if (cfm.is_name("V2"))
          h->filters_.emplace_back(k, Method::rc4);
        else if (cfm.is_name("AESV2"))
          h->filters_.emplace_back(k, Method::aes128);
        else if (cfm.is_name("AESV3"))
          h->filters_.emplace_back(k, Method::aes256);
      }
    if (a.v == 4) {
      if (h->stm_ == Method::aes256 || h->str_ == Method::aes256) corrupt("/AESV3 needs /V 5");
      std::int64_t len = 128;
      const Object& f = cf.get(stm_name != "Identity" ? stm_name : str_name);
      if (f.get("Length").is_int()) len = f.get("Length").as_int();
      if (len > 0 && len < 40) len *= 8;  // some writers give bytes
      if (len < 40 || len > 128 || len % 8 != 0) corrupt("bad crypt filter /Length");
      a.n = static_cast<std::size_t>(len / 8);
      if (a.r != 4) not_supported("the Standard security handler /V 4 /R " + std::to_string(a.r));
    } else {
      a.n = 32;
      if (a.r != 5 && a.r != 6) not_supported("the Standard security handler /V 5 /R " + std::to_string(a.r));
    }
  }
  if (a.v < 5 && a.r > 4) corrupt("/R " + std::to_string(a.r) + " needs /V 5");

  // The candidates: the given password (and its Latin-1 form for R ≤ 4), or the empty user password.
  std::vector<std::string> candidates;
  candidates.reserve(2);
  if (password != nullptr) {
    candidates.emplace_back(password->view());
    if (a.r <= 4)
      if (auto l = latin1(password->view())) {
        candidates.push_back(*l);
        secure_wipe(l->data(), l->size());
      }
  }
  struct WipeAll {
    std::vector<std::string>& v;
    ~WipeAll() {
      for (auto& s : v) secure_wipe(s.data(), s.size());
    }
  } wipe_candidates{candidates};

  bool found = false;
  if (a.r <= 4) {
    a.o = str(enc, "O", 32);
    a.u = str(enc, "U", a.r == 2 ? 32 : 16);
    auto try_user = [&](std::string_view padded) {
      Wiped key(key_r4(a, padded));
      if (!user_key_ok(a, key.s)) return false;
      h->key_ = key.s;
      return true;
    };
    if (password == nullptr) {
      Wiped padded(pad_password(""));
      found = try_user(padded.s);
    }
    for (const auto& pw : candidates) {
      if (found) break;
      {
        Wiped user(user_from_owner(a, pw));  // owner first: it grants every permission
        if (try_user(user.s)) {
          found = true;
          h->owner_ = true;
          break;
        }
      }
      Wiped padded(pad_password(pw));
      found = try_user(padded.s);
    }
  } else {
    a.o = str(enc, "O", 48);
    a.u = str(enc, "U", 48);
    a.oe = str(enc, "OE", 32).substr(0, 32);
    a.ue = str(enc, "UE", 32).substr(0, 32);
    auto try_pw = [&](std::string_view pw, bool owner) {
      Wiped key(key_r6(a, pw, owner));
      if (key.s.empty()) return false;
      h->key_ = key.s;
      h->owner_ = owner;
      return true;
    };
    if (password == nullptr) found = try_pw("", false);
    for (const auto& pw : candidates) {
      if (found) break;
      found = try_pw(pw, true) || try_pw(pw, false);
    }
    if (found) {
      // Algorithm 13: /Perms must confirm /P (a tampered /P would otherwise lift restrictions).
      const Object& perms = enc.get("Perms");
      if (perms.is_string() && perms.text().size() >= 16) {
        Wiped plain(aes_raw(h->key_, "", std::string_view(perms.text()).substr(0, 16), false));
        std::int32_t pp = 0;
        for (int i = 3; i >= 0; --i)
          pp = static_cast<std::int32_t>((static_cast<std::uint32_t>(pp) << 8) |
                                         static_cast<unsigned char>(plain.s[static_cast<std::size_t>(i)]));
        if (plain.s.compare(9, 3, "adb") != 0 || pp != a.p) corrupt("/Perms does not confirm /P");
      } else if (a.r == 6) {
        corrupt("no /Perms");
      }
    }
  }
  if (!found) {
    if (password == nullptr)
      throw Error(Errc::document_encrypted, "the PDF is encrypted with a user password: a password is required", true);
    throw Error(Errc::document_encrypted,
                "the given password is wrong: it is neither the user nor the owner password of this PDF", true);
  }
  return h;
}

SecurityHandler::~SecurityHandler() {
  secure_wipe(key_.data(), key_.size());
}

bool SecurityHandler::can_sign() const {
  if (owner_) return true;
  const auto p = static_cast<std::uint32_t>(p_);
  return (p & (1u << 5)) != 0 || (p & (1u << 8)) != 0;
}

SecurityHandler::Method SecurityHandler::filter_method(std::string_view name) const {
  if (name == "Identity") return Method::identity;
  for (const auto& [n, m] : filters_)
    if (n == name) return m;
  throw Error(Errc::invalid_document, "stream names an undefined crypt filter /" + std::string(name));
}

std::string SecurityHandler::object_key(Ref r, Method m) const {
  if (m == Method::aes256) return key_;
  std::string in = key_;
  in.push_back(static_cast<char>(r.num & 0xff));
  in.push_back(static_cast<char>((r.num >> 8) & 0xff));
  in.push_back(static_cast<char>((r.num >> 16) & 0xff));
  in.push_back(static_cast<char>(r.gen & 0xff));
  in.push_back(static_cast<char>((r.gen >> 8) & 0xff));
  if (m == Method::aes128) in += "sAlT";
  std::string h = md5(in);
  secure_wipe(in.data(), in.size());
  h.resize(std::min<std::size_t>(key_.size() + 5, 16));
  return h;
}

std::string SecurityHandler::decrypt(Ref r, std::string_view data, Method m) const {
  if (m == Method::identity) return std::string(data);
  Wiped k(object_key(r, m));
  if (m == Method::rc4) return rc4(k.s, data);
  return aes_decrypt(k.s, data);
}

std::string SecurityHandler::encrypt(Ref r, std::string_view data, Method m) const {
  if (m == Method::identity) return std::string(data);
  Wiped k(object_key(r, m));
  if (m == Method::rc4) return rc4(k.s, data);
  return aes_encrypt(k.s, data);
}

bool is_signature_dict(const Object& d) {
  if (!d.is_dict()) return false;
  const Object& t = d.get("Type");
  if (t.is_name("Sig") || t.is_name("DocTimeStamp")) return true;
  return d.find("ByteRange") != nullptr && d.find("Contents") != nullptr;
}

void crypt_strings(const SecurityHandler& h, Ref r, Object& o, bool enc) {
  switch (o.kind()) {
    case Object::Kind::string:
      o = Object::string(enc ? h.encrypt(r, o.text(), h.string_method()) : h.decrypt(r, o.text(), h.string_method()),
                         o.hex());
      break;
    case Object::Kind::array:
      for (auto& x : o.items()) crypt_strings(h, r, x, enc);
      break;
    case Object::Kind::dict: {
      const bool sig = is_signature_dict(o);
      for (std::size_t i = 0; i < o.keys().size(); ++i) {
        if (sig && o.keys()[i] == "Contents") continue;
        crypt_strings(h, r, o.items()[i], enc);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace sigil::pades::pdf
