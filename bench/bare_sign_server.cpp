// sigil_bare_server: the reference point of the CSC throughput aims (issue 9): "a bare Beast server
// doing one SoftHSM sign per request". Boost.Beast HTTPS, the handler runs on the I/O thread and
// signs with C_SignInit + C_Sign on a session copy of the key (one session and one copy per thread,
// as sigil_bench raw_copy). No access token, no SAD, no audit record, no worker hop, no store.
//
// It answers the same requests bench/csc_signhash.lua sends, so the same wrk script drives it:
//   .../credentials/authorize -> {"SAD":"bare"}   .../signatures/signHash -> {"signatures":[...]}
//   anything else             -> {}
// signHash picks the key by signAlgo: ECDSA-with-SHA256 -> the EC key (DER signature, as sigild
// returns), sha256WithRSAEncryption -> the RSA key (PKCS#1 v1.5 over the SHA-256 DigestInfo).
//
// usage: sigil_bare_server MODULE TOKEN_LABEL PIN_FILE EC_KEY_LABEL RSA_KEY_LABEL CERT KEY PORT_FILE [THREADS]
// (SOFTHSM2_CONF from the environment). Bench only: never built into sigild, never used by tests.
#include <dlfcn.h>

#include <utility>  // before Boost 1.74 asio (awaitable.hpp uses std::exchange)
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Bytes = std::vector<unsigned char>;

namespace {

CK_FUNCTION_LIST_PTR p11 = nullptr;
std::string ec_label, rsa_label;

void check(CK_RV rv, const char* what) {
  if (rv != CKR_OK) throw std::runtime_error(std::string(what) + " failed: rv=" + std::to_string(rv));
}

CK_SLOT_ID find_slot(const std::string& label) {
  CK_ULONG n = 0;
  check(p11->C_GetSlotList(CK_TRUE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(n);
  check(p11->C_GetSlotList(CK_TRUE, slots.data(), &n), "C_GetSlotList");
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO info{};
    if (p11->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    std::string l(reinterpret_cast<const char*>(info.label), sizeof info.label);
    l.erase(l.find_last_not_of(' ') + 1);
    if (l == label) return slots[i];
  }
  throw std::runtime_error("no token labelled " + label);
}

CK_SLOT_ID slot = 0;

// One session per thread and, in it, a session copy of each key (CKA_TOKEN = false).
struct ThreadKeys {
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE ec = CK_INVALID_HANDLE, rsa = CK_INVALID_HANDLE;

  CK_OBJECT_HANDLE copy_of(const std::string& label) {
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE find[] = {{CKA_CLASS, &cls, sizeof cls},
                           {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    check(p11->C_FindObjectsInit(session, find, 2), "C_FindObjectsInit");
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    check(p11->C_FindObjects(session, &h, 1, &n), "C_FindObjects");
    p11->C_FindObjectsFinal(session);
    if (n != 1) throw std::runtime_error("no private key labelled " + label);
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {{CKA_TOKEN, &no, sizeof no}};
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    check(p11->C_CopyObject(session, h, tmpl, 1, &copy), "C_CopyObject");
    return copy;
  }
  ThreadKeys() {
    check(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session), "C_OpenSession");
    ec = copy_of(ec_label);
    rsa = copy_of(rsa_label);
  }
};

ThreadKeys& keys() {
  thread_local ThreadKeys k;
  return k;
}

Bytes sign(CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism, const Bytes& input) {
  CK_MECHANISM mech{mechanism, nullptr, 0};
  check(p11->C_SignInit(keys().session, &mech, key), "C_SignInit");
  Bytes sig(512);
  CK_ULONG len = sig.size();
  check(p11->C_Sign(keys().session, const_cast<CK_BYTE_PTR>(input.data()), input.size(), sig.data(), &len), "C_Sign");
  sig.resize(len);
  return sig;
}

Bytes raw_to_der(const Bytes& raw) {
  const int half = static_cast<int>(raw.size() / 2);
  ECDSA_SIG* s = ECDSA_SIG_new();
  ECDSA_SIG_set0(s, BN_bin2bn(raw.data(), half, nullptr), BN_bin2bn(raw.data() + half, half, nullptr));
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(s, &der);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  ECDSA_SIG_free(s);
  return out;
}

std::string b64(const Bytes& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), in.data(), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Bytes unb64(const std::string& in) {
  Bytes out(3 * in.size() / 4 + 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) throw std::runtime_error("bad base64");
  std::size_t pad = 0;
  for (auto it = in.rbegin(); it != in.rend() && *it == '='; ++it) ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

const Bytes kSha256DigestInfo = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

std::string sign_hash(const std::string& body) {
  const auto j = nlohmann::json::parse(body);
  const bool ec = j.at("signAlgo").get<std::string>() == "1.2.840.10045.4.3.2";
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : j.at("hashes")) {
    const Bytes digest = unb64(h.get<std::string>());
    if (ec) {
      out.push_back(b64(raw_to_der(sign(keys().ec, CKM_ECDSA, digest))));
    } else {
      Bytes input = kSha256DigestInfo;
      input.insert(input.end(), digest.begin(), digest.end());
      out.push_back(b64(sign(keys().rsa, CKM_RSA_PKCS, input)));
    }
  }
  return nlohmann::json{{"signatures", out}}.dump();
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ssl::context& ctx) : stream_(std::move(socket), ctx) {}
  void start() {
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

 private:
  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->answer();
    });
  }
  void answer() {
    res_ = {};
    res_.version(req_.version());
    res_.keep_alive(req_.keep_alive());
    res_.set(http::field::content_type, "application/json");
    const auto target = req_.target();
    try {
      if (target.ends_with("/signatures/signHash")) {
        res_.body() = sign_hash(req_.body());
      } else if (target.ends_with("/credentials/authorize")) {
        res_.body() = R"({"SAD":"bare","expiresIn":3600})";
      } else {
        res_.body() = "{}";
      }
      res_.result(http::status::ok);
    } catch (const std::exception& e) {
      res_.result(http::status::bad_request);
      res_.body() = nlohmann::json{{"error", "invalid_request"}, {"error_description", e.what()}}.dump();
    }
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec && self->res_.keep_alive()) self->read();
    });
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void accept(tcp::acceptor& acceptor, net::io_context& ioc, ssl::context& ctx) {
  acceptor.async_accept(net::make_strand(ioc), [&](beast::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Connection>(std::move(socket), ctx)->start();
    accept(acceptor, ioc, ctx);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 9) {
    std::cerr << "usage: sigil_bare_server MODULE TOKEN_LABEL PIN_FILE EC_KEY_LABEL RSA_KEY_LABEL CERT KEY "
                 "PORT_FILE [THREADS]\n";
    return 2;
  }
  try {
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) throw std::runtime_error(dlerror());
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(dlsym(lib, "C_GetFunctionList"));
    if (get_list == nullptr) throw std::runtime_error("no C_GetFunctionList");
    check(get_list(&p11), "C_GetFunctionList");
    CK_C_INITIALIZE_ARGS init{};
    init.flags = CKF_OS_LOCKING_OK;
    check(p11->C_Initialize(&init), "C_Initialize");
    slot = find_slot(argv[2]);
    std::string pin;
    std::getline(std::ifstream(argv[3]), pin);
    CK_SESSION_HANDLE login = CK_INVALID_HANDLE;
    check(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &login), "C_OpenSession");
    check(p11->C_Login(login, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()), pin.size()), "C_Login");
    ec_label = argv[4];
    rsa_label = argv[5];

    ssl::context ctx(ssl::context::tls_server);
    ctx.use_certificate_chain_file(argv[6]);
    ctx.use_private_key_file(argv[7], ssl::context::pem);
    const int threads = argc > 9 ? std::stoi(argv[9]) : 2;
    net::io_context ioc(threads);
    tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
    std::ofstream(argv[8]) << acceptor.local_endpoint().port() << "\n";
    accept(acceptor, ioc, ctx);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
  } catch (const std::exception& e) {
    std::cerr << "sigil_bare_server: " << e.what() << "\n";
    return 1;
  }
}
