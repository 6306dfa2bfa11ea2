// PKCS#11 implementation of sigil::hsm::Token.
#include "sigil/hsm/token.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <shared_mutex>
#include <span>

#include "hsm/module.hpp"
#include "hsm/lanes.hpp"
#include "hsm/session_pool.hpp"
#include "hsm/test_hooks.hpp"
#include "ossl/digest.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/log.hpp"

namespace sigil::hsm {
namespace {

CK_BBOOL kTrue = CK_TRUE;
CK_BBOOL kFalse = CK_FALSE;

template <typename T>
CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, T* value) {
  return {type, value, sizeof(T)};
}
CK_ATTRIBUTE attr_bytes(CK_ATTRIBUTE_TYPE type, const void* data, std::size_t size) {
  return {type, const_cast<void*>(data), size};
}

// The two-call pattern: ask the size, then fill.
Bytes get_attribute(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  check_rv(fn->C_GetAttributeValue(s, o, &a, 1), "C_GetAttributeValue(size)");
  Bytes out(a.ulValueLen);
  a.pValue = out.data();
  check_rv(fn->C_GetAttributeValue(s, o, &a, 1), "C_GetAttributeValue");
  out.resize(a.ulValueLen);
  return out;
}

bool get_bool(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  CK_BBOOL v = CK_FALSE;
  CK_ATTRIBUTE a = attr(type, &v);
  return fn->C_GetAttributeValue(s, o, &a, 1) == CKR_OK && v == CK_TRUE;
}

std::vector<CK_OBJECT_HANDLE> find_objects(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s, std::vector<CK_ATTRIBUTE> tmpl) {
  check_rv(fn->C_FindObjectsInit(s, tmpl.data(), tmpl.size()), "C_FindObjectsInit");
  std::vector<CK_OBJECT_HANDLE> out;
  CK_OBJECT_HANDLE batch[64];
  CK_ULONG n = 0;
  CK_RV rv = CKR_OK;
  while ((rv = fn->C_FindObjects(s, batch, 64, &n)) == CKR_OK && n > 0) out.insert(out.end(), batch, batch + n);
  fn->C_FindObjectsFinal(s);
  check_rv(rv, "C_FindObjects");
  return out;
}

CK_MECHANISM_TYPE hash_mech(HashAlg h) {
  return h == HashAlg::sha256 ? CKM_SHA256 : h == HashAlg::sha384 ? CKM_SHA384 : CKM_SHA512;
}
CK_RSA_PKCS_MGF_TYPE mgf(HashAlg h) {
  return h == HashAlg::sha256 ? CKG_MGF1_SHA256 : h == HashAlg::sha384 ? CKG_MGF1_SHA384 : CKG_MGF1_SHA512;
}

using SteadyClock = std::chrono::steady_clock;

// What the token knows about one key label. Handles are valid only for the pool's key generation
// they were taken under: a re-login or a new key holder invalidates them (see session_pool.hpp).
struct CachedKey {
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;  // the token object
  KeySpec spec;
  std::uint64_t generation = 0;
  // Session-object copies in the pool's key holder (cache_session_keys), or none. Several, so that
  // concurrent signatures use different objects: SoftHSM2 locks an object for every attribute it
  // reads, and two threads signing with one object measured 20 % slower than with one each.
  std::vector<CK_OBJECT_HANDLE> copies;
  SteadyClock::time_point checked{};  // when the token object was last seen to exist
  bool copy_refused = false;          // the token would not make a protected copy: sign with priv
  Bytes spki;                         // the public key (SubjectPublicKeyInfo DER), read on first signer()
  bool has_copy() const { return !copies.empty(); }
  // The copy of signing lane `lane` (see Lanes), or the token object.
  CK_OBJECT_HANDLE signing_handle(unsigned lane) const {
    return copies.empty() ? priv : copies[lane % copies.size()];
  }
};

// What one signature needs from a cache entry: copied on every signature, so small.
struct SigningKey {
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;  // a copy, or priv
  KeySpec spec;
  std::uint64_t generation = 0;
};

// Session-object copy of a token private key: only CKA_TOKEN changes. Everything that protects the
// key (CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_SIGN only) is copied unchanged, and PKCS#11
// forbids a copy from relaxing SENSITIVE or EXTRACTABLE; we still read them back before trusting it.
bool copy_is_protected(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o) {
  CK_BBOOL token = CK_TRUE, priv = CK_FALSE, sensitive = CK_FALSE, extractable = CK_TRUE;
  CK_ATTRIBUTE a[] = {attr(CKA_TOKEN, &token), attr(CKA_PRIVATE, &priv), attr(CKA_SENSITIVE, &sensitive),
                      attr(CKA_EXTRACTABLE, &extractable)};
  return fn->C_GetAttributeValue(s, o, a, 4) == CKR_OK && token == CK_FALSE && priv == CK_TRUE &&
         sensitive == CK_TRUE && extractable == CK_FALSE;
}

class Pkcs11Token;

class TokenKeySigner final : public KeySigner {
 public:
  TokenKeySigner(Pkcs11Token& token, std::string label, KeySpec spec, Bytes spki)
      : token_(token), label_(std::move(label)), spec_(spec), spki_(std::move(spki)) {}
  KeyType key_type() const override { return spec_.type; }
  Bytes sign_digest(SignatureScheme scheme, HashAlg hash, const Bytes& digest, bool raw_ecdsa) override;
  std::vector<Bytes> sign_digests(SignatureScheme scheme, HashAlg hash, std::span<const Bytes> digests,
                                  bool raw_ecdsa) override;
  Bytes public_key_der() const override { return spki_; }

 private:
  Pkcs11Token& token_;
  std::string label_;
  KeySpec spec_;
  Bytes spki_;
};

class Pkcs11Token final : public Token {
 public:
  Pkcs11Token(std::shared_ptr<Module> module, CK_SLOT_ID slot, std::string label, std::string serial, SecretString pin,
              unsigned pool_size, bool cache_session_keys, unsigned session_key_copies,
              std::chrono::milliseconds session_key_recheck)
      : module_(module),
        label_(std::move(label)),
        serial_(std::move(serial)),
        cache_session_keys_(cache_session_keys),
        copies_wanted_(std::clamp(session_key_copies != 0 ? session_key_copies : pool_size, 1u, std::max(pool_size, 1u))),
        recheck_(session_key_recheck),
        pool_(std::move(module), slot, serial_, label_, std::move(pin), pool_size) {}

  std::string label() const override { return label_; }
  std::string serial() const override { return serial_; }

  KeyInfo generate_key(const KeySpec& spec, const std::string& label, const Bytes& id_in) override {
    if (label.empty()) throw Error(Errc::invalid_argument, "key label must not be empty", true);
    if (find_key(label)) throw Error(Errc::already_exists, "a key labelled '" + label + "' already exists", true);
    const Bytes id = id_in.empty() ? random_bytes(16) : id_in;
    CK_ULONG bits = spec.bits;
    CK_BYTE exponent[] = {0x01, 0x00, 0x01};
    const Bytes curve = spec.type == KeyType::ec ? ossl::ec_curve_oid_der(spec.bits) : Bytes{};
    if (spec.type == KeyType::rsa && spec.bits != 2048 && spec.bits != 3072 && spec.bits != 4096) {
      throw Error(Errc::invalid_argument, "RSA keys are 2048, 3072 or 4096 bits", true);
    }
    std::vector<CK_ATTRIBUTE> pub = {attr(CKA_TOKEN, &kTrue), attr(CKA_PRIVATE, &kFalse), attr(CKA_VERIFY, &kTrue),
                                     attr_bytes(CKA_LABEL, label.data(), label.size()),
                                     attr_bytes(CKA_ID, id.data(), id.size())};
    std::vector<CK_ATTRIBUTE> priv = {attr(CKA_TOKEN, &kTrue),
                                      attr(CKA_PRIVATE, &kTrue),
                                      attr(CKA_SENSITIVE, &kTrue),
                                      attr(CKA_EXTRACTABLE, &kFalse),
                                      attr(CKA_SIGN, &kTrue),
                                      attr(CKA_DECRYPT, &kFalse),
                                      attr_bytes(CKA_LABEL, label.data(), label.size()),
                                      attr_bytes(CKA_ID, id.data(), id.size())};
    CK_MECHANISM mech{};
    if (spec.type == KeyType::rsa) {
      mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
      pub.push_back(attr(CKA_MODULUS_BITS, &bits));
      pub.push_back(attr_bytes(CKA_PUBLIC_EXPONENT, exponent, sizeof exponent));
    } else {
      mech.mechanism = CKM_EC_KEY_PAIR_GEN;
      pub.push_back(attr_bytes(CKA_EC_PARAMS, curve.data(), curve.size()));
    }
    pool_.run("C_GenerateKeyPair", [&](CK_SESSION_HANDLE s) {
      CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
      return fn()->C_GenerateKeyPair(s, &mech, pub.data(), pub.size(), priv.data(), priv.size(), &hpub, &hpriv);
    });
    log::info("generated {} key '{}' in token '{}'", spec.name(), label, label_);
    auto info = find_key(label);
    if (!info) throw Error(Errc::hsm_general, "generated key '" + label + "' not found afterwards");
    return *info;
  }

  std::vector<KeyInfo> list_keys() override {
    std::vector<KeyInfo> out;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    pool_.run("list keys", [&](CK_SESSION_HANDLE s) {
      out.clear();
      // Token objects only: our session-object copies carry the same label.
      for (const auto o : find_objects(fn(), s, {attr(CKA_CLASS, &cls), attr(CKA_TOKEN, &kTrue)})) {
        out.push_back(describe(s, o));
      }
      return CKR_OK;
    });
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
    return out;
  }

  std::optional<KeyInfo> find_key(const std::string& label) override {
    std::optional<KeyInfo> out;
    pool_.run("find key", [&](CK_SESSION_HANDLE s) {
      const auto h = find_private(s, label);
      out = h == CK_INVALID_HANDLE ? std::nullopt : std::optional<KeyInfo>(describe(s, h));
      return CKR_OK;
    });
    return out;
  }

  void delete_key(const std::string& label) override {
    // Excludes lookups: none can copy the key between its deletion and forget() below.
    std::lock_guard slow(slow_path_mutex_);
    bool found = false;
    pool_.run("C_DestroyObject", [&](CK_SESSION_HANDLE s) {
      const auto objects =
          find_objects(fn(), s, {attr(CKA_TOKEN, &kTrue), attr_bytes(CKA_LABEL, label.data(), label.size())});
      found = !objects.empty();
      for (const auto o : objects) {
        if (const CK_RV rv = fn()->C_DestroyObject(s, o); rv != CKR_OK) return rv;
      }
      return CKR_OK;
    });
    forget(label);
    if (!found) throw Error(Errc::hsm_key_not_found, "no key labelled '" + label + "'", true);
    log::info("deleted key '{}' from token '{}'", label, label_);
  }

  Bytes public_key_der(const std::string& label) override {
    Bytes out;
    pool_.run("read public key", [&](CK_SESSION_HANDLE s) {
      CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
      const auto objs = find_objects(
          fn(), s, {attr(CKA_CLASS, &cls), attr(CKA_TOKEN, &kTrue), attr_bytes(CKA_LABEL, label.data(), label.size())});
      if (objs.empty()) throw Error(Errc::hsm_key_not_found, "no public key labelled '" + label + "'", true);
      CK_KEY_TYPE kt = 0;
      CK_ATTRIBUTE a = attr(CKA_KEY_TYPE, &kt);
      check_rv(fn()->C_GetAttributeValue(s, objs.front(), &a, 1), "C_GetAttributeValue(CKA_KEY_TYPE)");
      if (kt == CKK_RSA) {
        out = ossl::rsa_spki(get_attribute(fn(), s, objs.front(), CKA_MODULUS),
                             get_attribute(fn(), s, objs.front(), CKA_PUBLIC_EXPONENT));
      } else if (kt == CKK_EC) {
        out = ossl::ec_spki(get_attribute(fn(), s, objs.front(), CKA_EC_PARAMS),
                            get_attribute(fn(), s, objs.front(), CKA_EC_POINT));
      } else {
        throw Error(Errc::unsupported, "key '" + label + "' is neither RSA nor EC", true);
      }
      return CKR_OK;
    });
    return out;
  }

  Bytes sign(const std::string& label, SignatureScheme scheme, HashAlg hash, const Bytes& digest,
             bool raw_ecdsa) override {
    return std::move(sign_many(label, scheme, hash, std::span<const Bytes>(&digest, 1), raw_ecdsa).front());
  }

  // One lane, one key lookup and one session for all the digests: a call with many hashes does not
  // queue for the pool (or meet other signers on SoftHSM2's locks) once per signature.
  std::vector<Bytes> sign_many(const std::string& label, SignatureScheme scheme, HashAlg hash,
                               std::span<const Bytes> digests, bool raw_ecdsa) override {
    for (const auto& digest : digests) {
      if (digest.size() != digest_size(hash)) {
        throw Error(Errc::invalid_argument,
                    "digest length " + std::to_string(digest.size()) + " does not match " +
                        std::string(hash_name(hash)),
                    true);
      }
    }
    std::vector<Bytes> out;
    if (digests.empty()) return out;
    out.reserve(digests.size());
    const auto lane = lanes_.take();
    SigningKey key = signing_key(label, lane.index());
    const auto check_type = [&] {
      if ((key.spec.type == KeyType::ec) != (scheme == SignatureScheme::ecdsa)) {
        throw Error(Errc::hsm_mechanism_unsupported,
                    std::string(scheme_name(scheme)) + " does not fit the " + key.spec.name() + " key '" + label + "'",
                    true);
      }
    };
    check_type();
    CK_MECHANISM mech{};
    CK_RSA_PKCS_PSS_PARAMS pss{hash_mech(hash), mgf(hash), digest_size(hash)};
    switch (scheme) {
      case SignatureScheme::rsa_pkcs1:
        mech.mechanism = CKM_RSA_PKCS;
        break;
      case SignatureScheme::rsa_pss:
        mech.mechanism = CKM_RSA_PKCS_PSS;
        mech.pParameter = &pss;
        mech.ulParameterLen = sizeof pss;
        break;
      case SignatureScheme::ecdsa:
        mech.mechanism = CKM_ECDSA;
        break;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        const std::size_t field = (key.spec.bits + 7) / 8;
        const std::size_t sig_size = key.spec.type == KeyType::rsa ? field : 2 * field;
        // A retry (after a session failure) goes on from the first digest not yet signed: a
        // signature already produced is never made twice.
        pool_.run("C_Sign", [&](CK_SESSION_HANDLE s) {
          CK_OBJECT_HANDLE h = key.handle;
          bool token_object = false;  // h was found in this session: valid for the rest of the op
          while (out.size() < digests.size()) {
            // Before every signature, not once per batch: a key handle must not outlive its object
            // (a handle number may name another key's object later).
            if (!token_object && key.generation != pool_.key_generation()) {
              // The session failure this is the retry of (or another thread's) also took the login or
              // the key holder, and with them the copies and (SoftHSM2) the token handle: find the
              // token object again here rather than fail. The next lookup() makes new copies.
              h = find_private(s, label);
              if (h == CK_INVALID_HANDLE) return CKR_KEY_HANDLE_INVALID;
              token_object = true;
            } else if (!token_object && !still_cached(label, key)) {
              return CKR_KEY_HANDLE_INVALID;  // its copy was dropped: the key was deleted or replaced
            }
            const Bytes& digest = digests[out.size()];
            const Bytes input = scheme == SignatureScheme::rsa_pkcs1 ? ossl::encode_digest_info(hash, digest) : digest;
            Bytes sig(sig_size);
            CK_RV rv = fn()->C_SignInit(s, &mech, h);
            if (rv != CKR_OK) return rv;
            CK_ULONG len = sig.size();
            rv = fn()->C_Sign(s, const_cast<CK_BYTE_PTR>(input.data()), input.size(), sig.data(), &len);
            if (rv == CKR_BUFFER_TOO_SMALL) {  // C_Sign ended the operation; start over with room
              sig.resize(len);
              if ((rv = fn()->C_SignInit(s, &mech, h)) != CKR_OK) return rv;
              rv = fn()->C_Sign(s, const_cast<CK_BYTE_PTR>(input.data()), input.size(), sig.data(), &len);
            }
            if (rv != CKR_OK) return rv;
            sig.resize(len);
            out.push_back(std::move(sig));
          }
          return CKR_OK;
        });
        break;
      } catch (const Error& e) {
        // The cached object handle went stale (key re-created, token re-initialised): look it up
        // again once - unless signatures were made already: one call never mixes two keys.
        if (e.code() != Errc::hsm_key_not_found || attempt == 1 || !out.empty()) throw;
        forget(label);
        key = signing_key(label, lane.index());
        check_type();
      }
    }
    if (scheme == SignatureScheme::ecdsa && !raw_ecdsa) {
      for (auto& sig : out) sig = ossl::ecdsa_raw_to_der(sig);
    }
    return out;
  }

  std::unique_ptr<KeySigner> signer(const std::string& label) override {
    CachedKey key = lookup(label);
    if (key.spki.empty()) {
      // Read once per cached key (a C_FindObjects and an encoding): it goes with the entry, so a key
      // found anew (re-created, token re-initialised) has its public key read anew too.
      key.spki = public_key_der(label);
      std::lock_guard lock(cache_mutex_);
      if (const auto it = cache_.find(label);
          it != cache_.end() && it->second.priv == key.priv && it->second.generation == key.generation) {
        it->second.spki = key.spki;
      }
    }
    return std::make_unique<TokenKeySigner>(*this, label, key.spec, std::move(key.spki));
  }

  std::vector<MechanismInfo> mechanisms() override {
    std::vector<MechanismInfo> out;
    // Through the pool (a session it does not need) for the call gate, the current slot id and the retry.
    pool_.run("C_GetMechanismList", [&](CK_SESSION_HANDLE) {
      out.clear();
      const CK_SLOT_ID slot = pool_.slot();
      CK_ULONG n = 0;
      check_rv(fn()->C_GetMechanismList(slot, nullptr, &n), "C_GetMechanismList");
      std::vector<CK_MECHANISM_TYPE> types(n);
      check_rv(fn()->C_GetMechanismList(slot, types.data(), &n), "C_GetMechanismList");
      for (CK_ULONG i = 0; i < n; ++i) {
        CK_MECHANISM_INFO mi{};
        if (fn()->C_GetMechanismInfo(slot, types[i], &mi) != CKR_OK) continue;
        out.push_back({mechanism_name(types[i]), mi.ulMinKeySize, mi.ulMaxKeySize, (mi.flags & CKF_SIGN) != 0,
                       (mi.flags & CKF_GENERATE_KEY_PAIR) != 0});
      }
      return CKR_OK;
    });
    return out;
  }

  void check_ready() override {
    pool_.run("C_GetSessionInfo", [&](CK_SESSION_HANDLE s) {
      CK_SESSION_INFO info{};
      CK_RV rv = fn()->C_GetSessionInfo(s, &info);
      if (rv == CKR_OK && info.state != CKS_RW_USER_FUNCTIONS && info.state != CKS_RO_USER_FUNCTIONS) {
        rv = CKR_USER_NOT_LOGGED_IN;
      }
      return rv;
    });
  }

  PoolStats pool_stats() const override { return pool_.stats(); }

  // Test hooks used through the free functions below.
  void close_all_sessions() { pool_.close_all_sessions_for_test(); }
  std::optional<SessionKeyForTest> session_key(const std::string& label) {
    CachedKey key;
    {
      std::lock_guard lock(cache_mutex_);
      const auto it = cache_.find(label);
      if (it == cache_.end() || !it->second.has_copy()) return std::nullopt;
      key = it->second;
    }
    SessionKeyForTest out;
    out.handles.assign(key.copies.begin(), key.copies.end());
    out.handle = key.copies.front();
    out.current = key.generation == pool_.key_generation();
    if (!out.current) return out;  // died with its holder or the login: nothing to read
    // Read from a pool session, not the holder: session objects must be visible to every session.
    // Every copy: a flag holds only if it holds for all of them.
    pool_.run("C_GetAttributeValue(copy)", [&](CK_SESSION_HANDLE s) {
      out.token = false, out.private_ = true, out.sensitive = true, out.extractable = false, out.sign = true;
      out.secret_readable = false;
      for (const auto copy : key.copies) {
        CK_BBOOL token = CK_TRUE, priv = CK_FALSE, sensitive = CK_FALSE, extractable = CK_TRUE, sign = CK_FALSE;
        CK_ATTRIBUTE a[] = {attr(CKA_TOKEN, &token), attr(CKA_PRIVATE, &priv), attr(CKA_SENSITIVE, &sensitive),
                            attr(CKA_EXTRACTABLE, &extractable), attr(CKA_SIGN, &sign)};
        if (const CK_RV rv = fn()->C_GetAttributeValue(s, copy, a, 5); rv != CKR_OK) return rv;
        out.token = out.token || token == CK_TRUE;
        out.private_ = out.private_ && priv == CK_TRUE;
        out.sensitive = out.sensitive && sensitive == CK_TRUE;
        out.extractable = out.extractable || extractable == CK_TRUE;
        out.sign = out.sign && sign == CK_TRUE;
        CK_ATTRIBUTE secret{key.spec.type == KeyType::rsa ? CKA_PRIVATE_EXPONENT : CKA_VALUE, nullptr, 0};
        out.secret_readable = out.secret_readable || fn()->C_GetAttributeValue(s, copy, &secret, 1) == CKR_OK;
      }
      return CKR_OK;
    });
    return out;
  }

 private:
  CK_FUNCTION_LIST* fn() const { return module_->fn(); }

  CK_OBJECT_HANDLE find_private(CK_SESSION_HANDLE s, const std::string& label) {
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    auto objs = find_objects(
        fn(), s, {attr(CKA_CLASS, &cls), attr(CKA_TOKEN, &kTrue), attr_bytes(CKA_LABEL, label.data(), label.size())});
    std::sort(objs.begin(), objs.end());
    objs.erase(std::unique(objs.begin(), objs.end()), objs.end());
    if (objs.size() > 1) {
      // Right after the module was re-initialised under load, SoftHSM2 can list one key object
      // twice while it reloads its object store (seen in ModuleReinit.UnderLoad*). The same CKA_ID
      // is the same key; different ids under one label are a real ambiguity.
      const Bytes id = get_attribute(fn(), s, objs.front(), CKA_ID);
      for (std::size_t i = 1; i < objs.size(); ++i) {
        if (get_attribute(fn(), s, objs[i], CKA_ID) != id) {
          throw Error(Errc::hsm_general, "several private keys are labelled '" + label + "'");
        }
      }
    }
    return objs.empty() ? CK_INVALID_HANDLE : objs.front();
  }

  KeyInfo describe(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o) {
    KeyInfo k;
    const Bytes label = get_attribute(fn(), s, o, CKA_LABEL);
    k.label.assign(label.begin(), label.end());
    k.id_hex = hex_encode(get_attribute(fn(), s, o, CKA_ID));
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE a = attr(CKA_KEY_TYPE, &kt);
    check_rv(fn()->C_GetAttributeValue(s, o, &a, 1), "C_GetAttributeValue(CKA_KEY_TYPE)");
    if (kt == CKK_RSA) {
      k.spec = {KeyType::rsa, static_cast<unsigned>(get_attribute(fn(), s, o, CKA_MODULUS).size() * 8)};
    } else {
      const Bytes params = get_attribute(fn(), s, o, CKA_EC_PARAMS);
      k.spec.type = KeyType::ec;
      for (const unsigned bits : {256u, 384u, 521u}) {
        if (ossl::ec_curve_oid_der(bits) == params) k.spec.bits = bits;
      }
    }
    k.sensitive = get_bool(fn(), s, o, CKA_SENSITIVE);
    k.extractable = get_bool(fn(), s, o, CKA_EXTRACTABLE);
    k.local = get_bool(fn(), s, o, CKA_LOCAL);
    k.always_sensitive = get_bool(fn(), s, o, CKA_ALWAYS_SENSITIVE);
    k.never_extractable = get_bool(fn(), s, o, CKA_NEVER_EXTRACTABLE);
    return k;
  }

  // Fast path: the cached entry is usable as it is. With session keys on that needs a copy (or a
  // refusal to make one) checked against the token object less than recheck_ ago.
  bool usable(const CachedKey& k, std::uint64_t generation, SteadyClock::time_point now) const {
    if (k.generation != generation) return false;
    if (!cache_session_keys_ || k.copy_refused) return true;
    // With a copy: until its token object is due for a check. Without (the holder could not be
    // opened): sign with the token object and try copying again after the same interval, not on
    // every signature.
    return now - k.checked < recheck_;
  }

  // Whether `key` is still what the cache holds for `label` (its handle is the token object or one
  // of the entry's copies, under the current generation). forget() erases the entry before it
  // destroys the copies, so a copy seen here had not been destroyed yet.
  bool still_cached(const std::string& label, const SigningKey& key) {
    std::shared_lock lock(cache_mutex_);
    const auto it = cache_.find(label);
    if (it == cache_.end() || it->second.generation != key.generation || it->second.priv != key.priv) return false;
    const auto& c = it->second.copies;
    return key.handle == key.priv || std::find(c.begin(), c.end(), key.handle) != c.end();
  }

  // lookup() reduced to what a signature needs, without copying the entry's vectors on the fast path.
  SigningKey signing_key(const std::string& label, unsigned lane) {
    {
      std::shared_lock lock(cache_mutex_);
      if (const auto it = cache_.find(label);
          it != cache_.end() && usable(it->second, pool_.key_generation(), SteadyClock::now())) {
        const auto& k = it->second;
        return SigningKey{k.priv, k.signing_handle(lane), k.spec, k.generation};
      }
    }
    const CachedKey k = lookup(label);
    return SigningKey{k.priv, k.signing_handle(lane), k.spec, k.generation};
  }

  CachedKey lookup(const std::string& label) {
    {
      std::shared_lock lock(cache_mutex_);
      if (const auto it = cache_.find(label);
          it != cache_.end() && usable(it->second, pool_.key_generation(), SteadyClock::now())) {
        return it->second;
      }
    }
    // Slow path, one at a time so two threads never copy the same key twice.
    std::lock_guard slow(slow_path_mutex_);
    const std::uint64_t generation = pool_.key_generation();
    const auto now = SteadyClock::now();
    std::optional<CachedKey> cached;
    {
      std::lock_guard lock(cache_mutex_);
      if (const auto it = cache_.find(label); it != cache_.end()) {
        if (usable(it->second, generation, now)) return it->second;
        if (it->second.generation == generation) cached = it->second;
      }
    }
    CachedKey key;
    if (cached && cached->has_copy() && token_object_exists(cached->priv)) {
      // The copies are still backed by the token object (not deleted or replaced by another process).
      key = *cached;
    } else {
      if (cached) forget(label);  // stale or deleted: drop the copies with it
      std::uint64_t found_in_epoch = 0;
      pool_.run("find key", [&](CK_SESSION_HANDLE s) {
        key.priv = find_private(s, label);
        if (key.priv != CK_INVALID_HANDLE) key.spec = describe(s, key.priv).spec;
        found_in_epoch = pool_.epoch();
        return CKR_OK;
      });
      if (key.priv == CK_INVALID_HANDLE) throw Error(Errc::hsm_key_not_found, "no key labelled '" + label + "'", true);
      key.generation = generation;
      if (cache_session_keys_) make_copies(label, key, found_in_epoch);
    }
    key.checked = now;
    std::lock_guard lock(cache_mutex_);
    cache_[label] = key;
    return key;
  }

  bool token_object_exists(CK_OBJECT_HANDLE priv) {
    bool exists = false;
    pool_.run("C_GetAttributeValue(CKA_CLASS)", [&](CK_SESSION_HANDLE s) {
      CK_OBJECT_CLASS cls = 0;
      CK_ATTRIBUTE a = attr(CKA_CLASS, &cls);
      const CK_RV rv = fn()->C_GetAttributeValue(s, priv, &a, 1);
      exists = rv == CKR_OK && cls == CKO_PRIVATE_KEY;
      return is_session_failure(rv) ? rv : CKR_OK;
    });
    return exists;
  }

  // Makes copies_wanted_ session-object copies of key.priv in the key holder, or leaves key.copies
  // empty (signing then uses the token object). Never weakens the key: if a copy is not private,
  // sensitive and non-extractable, every copy is destroyed at once and the key is marked copy_refused.
  // A token that runs out of room after the first copy keeps the copies it made.
  void make_copies(const std::string& label, CachedKey& key, std::uint64_t found_in_epoch) {
    CK_ATTRIBUTE tmpl[] = {attr(CKA_TOKEN, &kFalse)};
    std::vector<CK_OBJECT_HANDLE> copies;
    CK_RV copy_rv = CKR_OK;
    bool protected_copies = false;
    std::uint64_t made_under = 0;
    try {
      made_under = pool_.run_on_key_holder("C_CopyObject", [&](CK_SESSION_HANDLE h) {
        copies.clear();  // a retry runs on a new holder: copies made in the old one died with it
        protected_copies = false;
        copy_rv = CKR_OK;
        if (pool_.epoch() != found_in_epoch) {
          // The module was re-initialised since key.priv was found: the number may name another
          // object of the new instance now. Copy nothing; the entry is stale and is looked up again.
          copy_rv = CKR_OBJECT_HANDLE_INVALID;
          return CKR_OK;
        }
        for (unsigned i = 0; i < copies_wanted_; ++i) {
          CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
          const CK_RV rv = fn()->C_CopyObject(h, key.priv, tmpl, 1, &copy);
          if (rv != CKR_OK) {
            if (is_session_failure(rv)) return rv;
            if (i == 0) copy_rv = rv;
            break;
          }
          copies.push_back(copy);
          if (!copy_is_protected(fn(), h, copy)) {
            for (const auto c : copies) fn()->C_DestroyObject(h, c);
            copies.clear();
            return CKR_OK;
          }
        }
        protected_copies = !copies.empty();
        return CKR_OK;
      });
    } catch (const Error& e) {
      // The holder could not be (re)opened: sign with the token object; try again next lookup.
      log::warn("could not copy key '{}' into a session object ({}); signing with the token object", label, e.what());
      return;
    }
    if (copy_rv == CKR_OBJECT_HANDLE_INVALID || copy_rv == CKR_KEY_HANDLE_INVALID) return;  // sign() finds out
    // C_CopyObject accepted key.priv, so that handle was valid under the generation the holder ran
    // under (opening a new holder advances it): the entry belongs to that generation.
    key.generation = made_under;
    if (copy_rv != CKR_OK || !protected_copies) {
      log::warn("token '{}' {} for key '{}'; signing with the token object", label_,
                copy_rv != CKR_OK
                    ? "refused C_CopyObject with " + rv_name(copy_rv)
                    : std::string("made a session copy that is not private, sensitive and non-extractable"),
                label);
      key.copy_refused = true;
      return;
    }
    key.copies = std::move(copies);
  }

  // Drops the cached handles of `label` and destroys its copies, if the holder still owns them.
  void forget(const std::string& label) {
    CachedKey key;
    {
      std::lock_guard lock(cache_mutex_);
      const auto it = cache_.find(label);
      if (it == cache_.end()) return;
      key = it->second;
      cache_.erase(it);
    }
    if (!key.has_copy() || key.generation != pool_.key_generation()) return;  // gone with its holder
    try {
      pool_.run_on_key_holder("C_DestroyObject(copy)", [&](CK_SESSION_HANDLE h) {
        // Only in the holder that made them: a handle from an older holder may name another object now.
        if (key.generation != pool_.key_generation()) return CKR_OK;
        for (const auto copy : key.copies) {
          if (const CK_RV rv = fn()->C_DestroyObject(h, copy); is_session_failure(rv)) return rv;
        }
        return CKR_OK;
      });
    } catch (const Error& e) {
      log::warn("could not destroy the session copies of key '{}': {}", label, e.what());
    }
  }

  std::shared_ptr<Module> module_;
  std::string label_;
  std::string serial_;
  bool cache_session_keys_;
  unsigned copies_wanted_;                   // session copies per key (cache_session_keys)
  Lanes lanes_{copies_wanted_};               // which copy a signature uses
  std::chrono::milliseconds recheck_;
  SessionPool pool_;
  std::mutex slow_path_mutex_;  // lookups that find, copy or re-check a key; before cache_mutex_
  std::shared_mutex cache_mutex_;  // shared on the signing fast path
  std::map<std::string, CachedKey> cache_;  // label -> key handles (handles are per application)
};

Bytes TokenKeySigner::sign_digest(SignatureScheme scheme, HashAlg hash, const Bytes& digest, bool raw_ecdsa) {
  return token_.sign(label_, scheme, hash, digest, raw_ecdsa);
}

std::vector<Bytes> TokenKeySigner::sign_digests(SignatureScheme scheme, HashAlg hash, std::span<const Bytes> digests,
                                                bool raw_ecdsa) {
  return token_.sign_many(label_, scheme, hash, digests, raw_ecdsa);
}

SlotInfo describe_slot(CK_FUNCTION_LIST* fn, CK_SLOT_ID id) {
  SlotInfo out;
  out.id = id;
  CK_SLOT_INFO si{};
  if (fn->C_GetSlotInfo(id, &si) == CKR_OK) {
    out.description = trim_padded(si.slotDescription, sizeof si.slotDescription);
    out.token_present = (si.flags & CKF_TOKEN_PRESENT) != 0;
  }
  CK_TOKEN_INFO ti{};
  if (out.token_present && fn->C_GetTokenInfo(id, &ti) == CKR_OK) {
    out.token_initialized = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
    out.user_pin_initialized = (ti.flags & CKF_USER_PIN_INITIALIZED) != 0;
    out.token_label = trim_padded(ti.label, sizeof ti.label);
    out.token_serial = trim_padded(ti.serialNumber, sizeof ti.serialNumber);
    out.token_model = trim_padded(ti.model, sizeof ti.model);
    out.token_manufacturer = trim_padded(ti.manufacturerID, sizeof ti.manufacturerID);
  }
  return out;
}

// Caller holds a Module::Call.
std::vector<SlotInfo> slots_of(Module& module) {
  std::vector<SlotInfo> out;
  for (const auto id : module.slots(false)) out.push_back(describe_slot(module.fn(), id));
  return out;
}

}  // namespace

std::unique_ptr<Token> Token::open(TokenOptions options) {
  auto module = Module::load(options.module);
  std::vector<SlotInfo> slots;
  {
    Module::Call call(*module);
    slots = slots_of(*module);
  }
  std::vector<std::string> seen;
  for (const auto& slot : slots) {
    if (!slot.token_present || !slot.token_initialized) continue;
    seen.push_back("'" + slot.token_label + "' (serial " + slot.token_serial + ")");
    const bool match = options.serial.empty() ? slot.token_label == options.label : slot.token_serial == options.serial;
    if (!match) continue;
    if (!slot.user_pin_initialized) {
      throw Error(Errc::hsm_token_not_found,
                  "token '" + slot.token_label + "' has no user PIN set (run sigilctl token init)");
    }
    if (options.user_pin.empty()) throw Error(Errc::config_secret_missing, "no user PIN configured for the token");
    return std::make_unique<Pkcs11Token>(module, slot.id, slot.token_label, slot.token_serial,
                                         std::move(options.user_pin), options.pool_size, options.cache_session_keys,
                                         options.session_key_copies, options.session_key_recheck);
  }
  std::string wanted = options.serial.empty() ? "label '" + options.label + "'" : "serial '" + options.serial + "'";
  std::string have;
  for (const auto& s : seen) have += (have.empty() ? "" : ", ") + s;
  throw Error(Errc::hsm_token_not_found, "no initialised token with " + wanted + " in " + options.module.string() +
                                             (have.empty() ? " (it has no initialised token)" : "; found: " + have));
}

std::vector<SlotInfo> list_slots(const std::filesystem::path& module_path) {
  const auto module = Module::load(module_path);
  Module::Call call(*module);
  return slots_of(*module);
}

void init_token(const std::filesystem::path& module_path, const std::string& label, const SecretString& so_pin,
                const SecretString& user_pin) {
  if (label.empty() || label.size() > 32) throw Error(Errc::invalid_argument, "token label must be 1-32 bytes", true);
  auto module = Module::load(module_path);
  auto* fn = module->fn();
  Module::Call call(*module);
  std::optional<CK_SLOT_ID> free_slot;
  for (const auto& slot : slots_of(*module)) {
    if (slot.token_present && slot.token_initialized && slot.token_label == label) {
      throw Error(Errc::already_exists, "a token labelled '" + label + "' already exists", true);
    }
    if (slot.token_present && !slot.token_initialized && !free_slot) free_slot = slot.id;
  }
  if (!free_slot) throw Error(Errc::hsm_token_not_found, "the module has no uninitialised token to initialise");
  CK_UTF8CHAR padded[32];
  std::memset(padded, ' ', sizeof padded);
  std::memcpy(padded, label.data(), label.size());
  std::string so(so_pin.view()), user(user_pin.view());
  auto wipe = [&] {
    secure_wipe(so.data(), so.size());
    secure_wipe(user.data(), user.size());
  };
  try {
    check_rv(fn->C_InitToken(*free_slot, reinterpret_cast<CK_UTF8CHAR_PTR>(so.data()), so.size(), padded),
             "C_InitToken");
    // SoftHSM2 moves an initialised token to a new slot id: find it again by label.
    std::optional<CK_SLOT_ID> slot;
    for (const auto& s : slots_of(*module)) {
      if (s.token_initialized && s.token_label == label) slot = s.id;
    }
    if (!slot) throw Error(Errc::hsm_token_not_found, "token '" + label + "' vanished after C_InitToken");
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    check_rv(fn->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), "C_OpenSession");
    CK_RV rv = fn->C_Login(s, CKU_SO, reinterpret_cast<CK_UTF8CHAR_PTR>(so.data()), so.size());
    if (rv == CKR_OK) rv = fn->C_InitPIN(s, reinterpret_cast<CK_UTF8CHAR_PTR>(user.data()), user.size());
    fn->C_Logout(s);
    fn->C_CloseSession(s);
    check_rv(rv, "C_InitPIN");
  } catch (...) {
    wipe();
    throw;
  }
  wipe();
  log::info("initialised token '{}'", label);
}

// Test hook: closes every session of the token behind the pool's back.
void close_all_sessions_for_test(Token& token) {
  static_cast<Pkcs11Token&>(token).close_all_sessions();
}
std::optional<SessionKeyForTest> session_key_for_test(Token& token, const std::string& label) {
  return static_cast<Pkcs11Token&>(token).session_key(label);
}

}  // namespace sigil::hsm
