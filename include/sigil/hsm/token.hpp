// The one way to a private key: a PKCS#11 token (SoftHSM2 by default, any vendor module by path).
//
// No pkcs11.h types here. A Token is opened once per process and token (composition root), logs
// in once, and keeps a bounded pool of sessions: one session per in-flight operation. Sessions
// that die (closed, invalid handle, logged out, device removed) are replaced and the operation is
// retried once, transparently; so is an operation that finds the module finalized behind our back
// (it is re-initialised and the token found and logged in again). Keys are generated inside the token as sensitive and
// non-extractable; only public keys and signatures come out.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sigil/common/crypto_types.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::hsm {

struct TokenOptions {
  std::filesystem::path module;
  std::string label;         // token label (ignored when serial is set)
  std::string serial;        // token serial number
  SecretString user_pin;     // CKU_USER PIN; wiped after login
  unsigned pool_size = 8;    // maximum concurrent sessions
  // Sign with a per-process session-object copy of each key (C_CopyObject with CKA_TOKEN=false; the
  // copy stays sensitive, non-extractable and private, or is not used). It spares the token the
  // per-signature reload of the token object (SoftHSM2: a file read per C_SignInit) and costs one
  // extra "key holder" session beyond pool_size. See docs/adr/0007-session-key-cache.md.
  bool cache_session_keys = true;
  // Copies made of each key (1..pool_size, clamped): concurrent signatures with one key use
  // different objects (each signature leases a lane, and each lane has its copy). 0 = pool_size.
  unsigned session_key_copies = 0;
  // A copy outlives the deletion of its token object by another process: the token object is checked
  // again when its copy was last checked longer ago than this (0 = before every signature).
  std::chrono::milliseconds session_key_recheck{1000};
};

struct KeyInfo {
  std::string label;
  std::string id_hex;        // CKA_ID
  KeySpec spec;
  bool sensitive = false;
  bool extractable = true;
  bool local = false;             // generated in the token
  bool always_sensitive = false;
  bool never_extractable = false;
};

struct MechanismInfo {
  std::string name;          // "CKM_RSA_PKCS", or "0x..." when unknown
  unsigned long min_key = 0, max_key = 0;
  bool sign = false;
  bool generate_key_pair = false;
};

struct SlotInfo {
  unsigned long id = 0;
  std::string description;
  bool token_present = false;
  bool token_initialized = false;
  bool user_pin_initialized = false;
  std::string token_label;
  std::string token_serial;
  std::string token_model;
  std::string token_manufacturer;
};

struct PoolStats {
  unsigned open_sessions = 0;
  unsigned idle_sessions = 0;
  unsigned long long sessions_replaced = 0;
  unsigned long long retries = 0;
  // Times this token's pool dropped every session and handle because the module had been
  // re-initialised (finalized behind our back), and how often this process re-initialised the
  // module (or adopted a new instance somebody else initialised), counting every token of it.
  unsigned long long recoveries = 0;
  unsigned long long module_reinitializations = 0;
};

class Token {
 public:
  // Loads the module, finds the token, logs in. Throws Error(hsm_module_load, hsm_token_not_found,
  // hsm_pin_incorrect, hsm_pin_locked, ...) with a detail explaining what to check.
  static std::unique_ptr<Token> open(TokenOptions options);
  virtual ~Token() = default;

  virtual std::string label() const = 0;
  virtual std::string serial() const = 0;

  // `label` must be unique in the token; `id` empty = random 16-byte CKA_ID.
  virtual KeyInfo generate_key(const KeySpec& spec, const std::string& label, const Bytes& id = {}) = 0;
  virtual std::vector<KeyInfo> list_keys() = 0;
  virtual std::optional<KeyInfo> find_key(const std::string& label) = 0;
  // Deletes the private and public key objects with this label; throws hsm_key_not_found.
  virtual void delete_key(const std::string& label) = 0;
  virtual Bytes public_key_der(const std::string& label) = 0;
  virtual Bytes sign(const std::string& label, SignatureScheme scheme, HashAlg hash, const Bytes& digest,
                     bool raw_ecdsa = false) = 0;
  // Several digests with one key, in order; all or an exception. The default signs them one by one.
  virtual std::vector<Bytes> sign_many(const std::string& label, SignatureScheme scheme, HashAlg hash,
                                       std::span<const Bytes> digests, bool raw_ecdsa = false) {
    std::vector<Bytes> out;
    out.reserve(digests.size());
    for (const auto& d : digests) out.push_back(sign(label, scheme, hash, d, raw_ecdsa));
    return out;
  }
  // A KeySigner bound to one key, for formatters and X.509 issuance.
  virtual std::unique_ptr<KeySigner> signer(const std::string& label) = 0;
  virtual std::vector<MechanismInfo> mechanisms() = 0;
  // Opens (or reuses) a session and checks it is logged in; throws when the token is unusable.
  virtual void check_ready() = 0;
  virtual PoolStats pool_stats() const = 0;
};

// Slots and tokens the module reports (no login needed).
std::vector<SlotInfo> list_slots(const std::filesystem::path& module);

// Initialises the first free (uninitialised) token of the module with `label`, sets the SO PIN and
// the user PIN. Throws Error(already_exists) if a token with that label exists.
void init_token(const std::filesystem::path& module, const std::string& label, const SecretString& so_pin,
                const SecretString& user_pin);

}  // namespace sigil::hsm
