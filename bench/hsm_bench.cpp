// Signatures per second, per key type, at 1, 2 and 16 threads:
//   openssl/...        EVP_PKEY_sign with an in-memory key of the same type: the CPU's limit;
//   raw_token/...      one session per thread, C_SignInit + C_Sign on the token key: the token's limit;
//   raw_copy/...       the same on a session-object copy of that key (CKA_TOKEN=false);
//   raw_shared_copy/.. the same with one copy shared by every thread (what sharing an object costs);
//   layer/...          hsm::Token::sign (pool + handle cache + retry), cache_session_keys=false;
//   layer_cached/...   the same with cache_session_keys=true (the default);
//   layer_many/...     hsm::Token::sign_many, 32 digests per call (counted per signature).
// raw_* also report where the time goes: microseconds per C_SignInit and per C_Sign.
// See bench/README.md for running and reading it, docs/performance.md for results.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "audit_bench.hpp"
#include "hsm/module.hpp"
#include "ossl/digest.hpp"
#include "ossl/handles.hpp"
#include "sigil/common/log.hpp"
#include "softhsm_fixture.hpp"

namespace sigil::bench {
namespace {

struct KeyCase {
  const char* spec;
  SignatureScheme scheme;  // RSA: PKCS#1 v1.5 (what most signature formats use); EC: ECDSA
};
constexpr KeyCase kKeys[] = {{"rsa-2048", SignatureScheme::rsa_pkcs1},
                             {"rsa-3072", SignatureScheme::rsa_pkcs1},
                             {"ec-p256", SignatureScheme::ecdsa},
                             {"ec-p384", SignatureScheme::ecdsa}};

// Everything the benchmarks share, built once in main() before any benchmark thread starts.
struct World {
  std::unique_ptr<hsm::Token> plain;   // cache_session_keys = false
  std::unique_ptr<hsm::Token> cached;  // cache_session_keys = true
  std::shared_ptr<hsm::Module> module;
  CK_SLOT_ID slot = 0;
  std::vector<ossl::PKey> software;  // one in-memory key per kKeys entry
  Bytes digest;                      // SHA-256 of a fixed document
};
World* g_world = nullptr;

std::string label_of(const KeyCase& k) {
  return std::string("bench-") + k.spec;
}

ossl::PKey software_key(const KeySpec& spec) {
  EVP_PKEY* key = spec.type == KeyType::rsa
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(spec.bits))
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", spec.bits == 256 ? "P-256" : "P-384");
  if (key == nullptr) throw std::runtime_error("EVP_PKEY_Q_keygen failed");
  return ossl::PKey(key);
}

void BM_OpenSsl(benchmark::State& state, std::size_t key) {
  // One context per thread, initialised once, like `openssl speed`: the limit of the CPU.
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, g_world->software[key].get(), nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
      (kKeys[key].scheme == SignatureScheme::rsa_pkcs1 &&
       EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1)) {
    state.SkipWithError("EVP_PKEY_sign_init");
    return;
  }
  std::vector<unsigned char> sig(static_cast<std::size_t>(EVP_PKEY_get_size(g_world->software[key].get())));
  const Bytes& digest = g_world->digest;
  for (auto _ : state) {
    std::size_t len = sig.size();
    if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) != 1) {
      state.SkipWithError("EVP_PKEY_sign");
      break;
    }
    benchmark::DoNotOptimize(sig.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Raw PKCS#11 with one session per thread (opened here, logged in through the application's login)
// and no pool, cache or retry: the limit of the token itself.
enum class Copy { none, per_thread, shared };

void BM_RawPkcs11(benchmark::State& state, std::size_t key, Copy mode) {
  const bool session_copy = mode != Copy::none;
  CK_FUNCTION_LIST* fn = g_world->module->fn();
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (fn->C_OpenSession(g_world->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s) != CKR_OK) {
    state.SkipWithError("C_OpenSession");
    return;
  }
  const std::string label = label_of(kKeys[key]);
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ATTRIBUTE find[] = {{CKA_CLASS, &cls, sizeof cls},
                         {CKA_TOKEN, &yes, sizeof yes},
                         {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  CK_ULONG found = 0;
  fn->C_FindObjectsInit(s, find, 3);
  fn->C_FindObjects(s, &h, 1, &found);
  fn->C_FindObjectsFinal(s);
  if (found != 1) {
    state.SkipWithError("private key not found");
    fn->C_CloseSession(s);
    return;
  }
  if (mode == Copy::shared) {
    // One copy for every thread, made once in a session that stays open: what sharing one
    // object costs (SoftHSM2 locks an object for each attribute read).
    static std::mutex mu;
    static std::map<std::size_t, CK_OBJECT_HANDLE> shared;
    std::lock_guard lock(mu);
    auto it = shared.find(key);
    if (it == shared.end()) {
      CK_SESSION_HANDLE holder = CK_INVALID_HANDLE;
      CK_ATTRIBUTE tmpl[] = {{CKA_TOKEN, &no, sizeof no}};
      CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
      if (fn->C_OpenSession(g_world->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &holder) != CKR_OK ||
          fn->C_CopyObject(holder, h, tmpl, 1, &copy) != CKR_OK) {
        state.SkipWithError("C_CopyObject");
        fn->C_CloseSession(s);
        return;
      }
      it = shared.emplace(key, copy).first;
    }
    h = it->second;
  } else if (session_copy) {
    // Lives in this thread's session and dies with it.
    CK_ATTRIBUTE tmpl[] = {{CKA_TOKEN, &no, sizeof no}};
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    if (fn->C_CopyObject(s, h, tmpl, 1, &copy) != CKR_OK) {
      state.SkipWithError("C_CopyObject");
      fn->C_CloseSession(s);
      return;
    }
    h = copy;
  }
  const bool rsa = kKeys[key].scheme != SignatureScheme::ecdsa;
  const Bytes input = rsa ? ossl::encode_digest_info(HashAlg::sha256, g_world->digest) : g_world->digest;
  CK_MECHANISM mech{rsa ? CKM_RSA_PKCS : CKM_ECDSA, nullptr, 0};
  std::vector<unsigned char> sig(1024);
  using Clock = std::chrono::steady_clock;
  Clock::duration init{}, sign{};
  for (auto _ : state) {
    CK_ULONG len = sig.size();
    const auto t0 = Clock::now();
    CK_RV rv = fn->C_SignInit(s, &mech, h);
    const auto t1 = Clock::now();
    if (rv == CKR_OK) rv = fn->C_Sign(s, const_cast<unsigned char*>(input.data()), input.size(), sig.data(), &len);
    const auto t2 = Clock::now();
    init += t1 - t0;
    sign += t2 - t1;
    if (rv != CKR_OK) {
      state.SkipWithError(("C_SignInit/C_Sign: " + hsm::rv_name(rv)).c_str());
      break;
    }
  }
  fn->C_CloseSession(s);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  const double n = static_cast<double>(state.iterations() == 0 ? 1 : state.iterations());
  auto us = [&](Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count() / n; };
  state.counters["signinit_us"] = benchmark::Counter(us(init), benchmark::Counter::kAvgThreads);
  state.counters["sign_us"] = benchmark::Counter(us(sign), benchmark::Counter::kAvgThreads);
}

void BM_Layer(benchmark::State& state, std::size_t key, bool cached) {
  hsm::Token& token = cached ? *g_world->cached : *g_world->plain;
  const std::string label = label_of(kKeys[key]);
  for (auto _ : state) {
    benchmark::DoNotOptimize(token.sign(label, kKeys[key].scheme, HashAlg::sha256, g_world->digest));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// hsm::Token::sign_many with 32 digests per call (one lane, one session): what a CSC signHash
// with 32 hashes does. Counted per signature.
void BM_LayerMany(benchmark::State& state, std::size_t key) {
  const std::string label = label_of(kKeys[key]);
  const std::vector<Bytes> digests(32, g_world->digest);
  for (auto _ : state) {
    benchmark::DoNotOptimize(g_world->cached->sign_many(label, kKeys[key].scheme, HashAlg::sha256, digests));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * digests.size()));
}

CK_SLOT_ID find_slot(hsm::Module& module) {
  for (const auto id : module.slots(true)) {
    CK_TOKEN_INFO ti{};
    if (module.fn()->C_GetTokenInfo(id, &ti) == CKR_OK && hsm::trim_padded(ti.label, sizeof ti.label) == kTokenLabel) {
      return id;
    }
  }
  throw std::runtime_error("benchmark token not found");
}

void apply(benchmark::internal::Benchmark* b) {
  b->Threads(1)->Threads(2)->Threads(16)->UseRealTime()->MinTime(1.0);
}

}  // namespace
}  // namespace sigil::bench

int main(int argc, char** argv) {
  using namespace sigil;
  using namespace sigil::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  log::init("warn", log::Format::text);

  SoftHsmFixture fixture;  // before anything loads the module
  World world;
  world.plain = SoftHsmFixture::open(false);
  world.cached = SoftHsmFixture::open(true);
  world.module = hsm::Module::load(kSoftHsmModule);  // the instance the tokens share
  world.slot = find_slot(*world.module);
  world.digest = ossl::digest(HashAlg::sha256, std::string_view("sigil benchmark document"));
  for (const auto& k : kKeys) {
    const auto spec = KeySpec::parse(k.spec);
    world.plain->generate_key(spec, label_of(k));
    world.software.push_back(software_key(spec));
    // Warm both handle caches (and make the session copy) outside the measurement.
    world.plain->sign(label_of(k), k.scheme, HashAlg::sha256, world.digest);
    world.cached->sign(label_of(k), k.scheme, HashAlg::sha256, world.digest);
  }
  g_world = &world;

  for (std::size_t i = 0; i < std::size(kKeys); ++i) {
    const std::string spec = kKeys[i].spec;
    apply(benchmark::RegisterBenchmark(("openssl/" + spec).c_str(), BM_OpenSsl, i));
    apply(benchmark::RegisterBenchmark(("raw_token/" + spec).c_str(), BM_RawPkcs11, i, Copy::none));
    apply(benchmark::RegisterBenchmark(("raw_copy/" + spec).c_str(), BM_RawPkcs11, i, Copy::per_thread));
    apply(benchmark::RegisterBenchmark(("raw_shared_copy/" + spec).c_str(), BM_RawPkcs11, i, Copy::shared));

    apply(benchmark::RegisterBenchmark(("layer/" + spec).c_str(), BM_Layer, i, false));
    apply(benchmark::RegisterBenchmark(("layer_cached/" + spec).c_str(), BM_Layer, i, true));
    apply(benchmark::RegisterBenchmark(("layer_many/" + spec).c_str(), BM_LayerMany, i));
  }
  register_audit_benchmarks(*world.cached, fixture.dir());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  close_audit_benchmarks();
  g_world = nullptr;
  return 0;
}
