// One HTTP/1.1 connection (plain or TLS), after the Beast 1.74 advanced_server_flex example:
// every completion handler runs on the connection's strand (the socket was accepted onto its own
// strand), every read and write has a deadline (beast::tcp_stream::expires_after), and the body
// parser is chosen after the header is read (request_parser<empty_body> -> string/file body).
//
// Timeouts: handshake and each request (first byte .. last body byte) and each response write
// get request_timeout; waiting for the next request on a kept-alive connection gets idle_timeout.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <type_traits>

#include "convert.hpp"
#include "server_core.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "tls.hpp"

namespace sigil::http::detail {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::chrono::milliseconds kCloseTimeout{2000};  // TLS close_notify / lingering close

// Errors of the HTTP parser itself (a malformed request: 400) as opposed to transport errors
// (EOF, reset, timeout, TLS failure: just close).
bool is_protocol_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

bool iequals(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

std::uint64_t clamp32(std::size_t v) {
  return std::min<std::size_t>(v, std::numeric_limits<std::uint32_t>::max());
}

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  enum class State { handshake, idle, reading, handling, writing, closing };

 public:
  Session(ServerCore& core, tcp::socket&& socket) : core_(core), stream_(make_stream(core, std::move(socket))) {
    beast::error_code ec;
    const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    remote_ = ec ? "unknown" : ep.address().to_string();
    core_.metrics.add_connections(1);
  }

  ~Session() override {
    remove_spool();
    remove_body_file();
    if (in_flight_) core_.metrics.add_in_flight(-1);
    core_.metrics.add_connections(-1);
    core_.connections.fetch_sub(1);
    core_.unregister_session(id_);
  }

  void start() {
    id_ = core_.register_session(this->weak_from_this());
    net::dispatch(stream_.get_executor(),
                  [self = this->shared_from_this()] { self->safely([&] { self->on_start(); }); });
  }

  void on_server_shutdown() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      // Only connections with no request in progress are cut; the others finish first.
      if (self->state_ == State::idle || self->state_ == State::handshake)
        self->safely([&] { self->lowest().cancel(); });
    });
  }

 private:
  static Stream make_stream(ServerCore& core, tcp::socket&& socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *core.tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // Runs a completion step; an exception (allocation failure, a bug) must not unwind into the
  // io_context, so it is logged and the connection is dropped.
  template <class F>
  void safely(F&& step) noexcept {
    try {
      step();
    } catch (const std::exception& e) {
      log::error("connection from {}: unexpected exception: {}", remote_, e.what());
      close_now();
    } catch (...) {
      log::error("connection from {}: unexpected non-standard exception", remote_);
      close_now();
    }
  }

  // A completion handler calling a member function through safely(); it keeps the session alive.
  template <class... Args>
  auto bind(void (Session::*member)(Args...)) {
    return
        [self = this->shared_from_this(), member](Args... args) { self->safely([&] { ((*self).*member)(args...); }); };
  }

  void on_start() {
    if constexpr (kTls) {
      state_ = State::handshake;
      lowest().expires_after(core_.config.request_timeout);
      stream_.async_handshake(net::ssl::stream_base::server, bind(&Session::on_handshake));
    } else {
      wait_for_request();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      log::debug("TLS handshake with {} failed: {}", remote_, ec.message());
      return close_now();
    }
    if constexpr (kTls) client_cert_ = verified_client_cert(stream_.native_handle());
    wait_for_request();
  }

  // Waits for the first byte of the next request under idle_timeout (pipelined bytes already
  // buffered skip the wait). The request deadline starts with that first byte.
  void wait_for_request() {
    if (core_.stopping) return graceful_close();
    if (buffer_.size() > 0) return begin_request();
    state_ = State::idle;
    lowest().expires_after(core_.config.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk), bind(&Session::on_first_bytes));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (ec) return close_now();  // idle timeout, peer closed, or cancelled by shutdown
    begin_request();
  }

  void begin_request() {
    state_ = State::reading;
    started_ = std::chrono::steady_clock::now();
    in_flight_ = true;
    core_.metrics.add_in_flight(1);
    request_ = std::make_shared<Request>();
    request_id_.clear();
    status_ = 0;
    close_after_ = false;
    lowest().expires_after(core_.config.request_timeout);
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<std::uint32_t>(clamp32(core_.config.max_header_bytes)));
    // Beast's request parser checks Content-Length against its body limit (1 MiB by default)
    // while parsing the header: use ours so an oversized announcement is a clean 413.
    header_parser_->body_limit(core_.config.max_body_bytes);
    bhttp::async_read_header(stream_, buffer_, *header_parser_, bind(&Session::on_header));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::header_limit) return reject(Error(Errc::header_too_large, "header limit exceeded"));
    if (ec == bhttp::error::body_limit) return reject(Error(Errc::payload_too_large, "Content-Length over the limit"));
    if (ec) {
      if (is_protocol_error(ec)) return reject(Error(Errc::bad_request, "malformed HTTP request: " + ec.message()));
      return abandon(ec);
    }
    const auto& head = header_parser_->get();
    version_ = head.version();
    keep_alive_ = head.keep_alive();
    try {
      request_->request_id = choose_request_id(find_field(head, "X-Request-Id"));
      request_id_ = request_->request_id;
      fill_request_head(*request_, head);
    } catch (const Error& e) {
      return reject(e);
    }
    request_->remote_address = remote_;
    request_->client_cert = client_cert_;
    request_->max_json_depth = core_.config.max_json_depth;

    // Refuse an announced oversize body before reading a byte of it.
    const auto length = header_parser_->content_length();
    if (length && *length > core_.config.max_body_bytes) {
      return reject(Error(Errc::payload_too_large, "Content-Length " + std::to_string(*length)));
    }
    if (header_parser_->is_done()) return dispatch_request();  // no body

    if (const auto expect = find_field(head, "Expect"); expect && iequals(*expect, "100-continue")) {
      // Clients like curl wait for this before sending a large body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = this->shared_from_this()](beast::error_code wec, std::size_t) {
                                self->safely([&] { wec ? self->abandon(wec) : self->read_body(); });
                              });
    }
    read_body();
  }

  static std::optional<std::string_view> find_field(const bhttp::request_header<>& head, std::string_view name) {
    const auto it = head.find(name);
    if (it == head.end()) return std::nullopt;
    return std::string_view(it->value());
  }

  // Known small bodies go to memory; large or chunked (size unknown) ones to a spool file, so
  // memory does not grow with upload size. The same request deadline keeps running.
  void read_body() {
    const auto length = header_parser_->content_length();
    if (length && *length <= core_.config.memory_body_bytes) {
      string_parser_.emplace(std::move(*header_parser_));
      header_parser_.reset();
      string_parser_->body_limit(core_.config.max_body_bytes);
      return bhttp::async_read(stream_, buffer_, *string_parser_, bind(&Session::on_body));
    }
    beast::file file;
    try {
      file = open_spool_file();
    } catch (const Error& e) {
      return reject(e);
    }
    file_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    file_parser_->body_limit(core_.config.max_body_bytes);
    beast::error_code ec;
    file_parser_->get().body().reset(std::move(file), ec);
    if (ec) return reject(Error(Errc::io, "spool file: " + ec.message()));
    bhttp::async_read(stream_, buffer_, *file_parser_, bind(&Session::on_body));
  }

  beast::file open_spool_file() {
    spool_path_ = core_.spool_dir / ("upload-" + random_token(12) + ".part");
    // 0600 and O_EXCL: uploads may be confidential documents; never follow a planted file.
    const int fd = ::open(spool_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const auto path = spool_path_.string();
      spool_path_.clear();
      throw Error(Errc::io, "cannot create spool file " + path);
    }
    beast::file file;
    file.native_handle(fd);
    return file;
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) return reject(Error(Errc::payload_too_large, "body limit while reading"));
    if (ec) {
      if (is_protocol_error(ec)) return reject(Error(Errc::bad_request, "malformed HTTP body: " + ec.message()));
      return abandon(ec);
    }
    try {
      if (string_parser_) {
        request_->body = std::move(string_parser_->get().body());
        request_->body_size = request_->body.size();
      } else {
        file_parser_->get().body().close();
        const auto size = std::filesystem::file_size(spool_path_);
        if (size <= core_.config.memory_body_bytes) {
          // A small chunked body: hand it over in memory like any other small body.
          request_->body = files::read(spool_path_);
          remove_spool();
        } else {
          request_->body_file = spool_path_;
        }
        request_->body_size = static_cast<std::size_t>(size);
      }
    } catch (const std::exception& e) {
      return reject(Error(Errc::io, std::string("reading spooled body: ") + e.what()));
    }
    dispatch_request();
  }

  // Runs the route on the strand (non-blocking routes) or on the worker pool; the response is
  // posted back to this strand.
  void dispatch_request() {
    state_ = State::handling;
    header_parser_.reset();
    string_parser_.reset();
    file_parser_.reset();
    Response error;
    const Route* route = core_.router.match(*request_, error);
    if (route == nullptr) return send(std::move(error));
    if (!route->options.blocking) return send(invoke(core_, *route, *request_));
    auto self = this->shared_from_this();
    auto req = request_;
    const bool queued = core_.submit([self, req, route] {
      Response response = invoke(self->core_, *route, *req);
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->safely([&] { self->send(std::move(response)); });
      });
    });
    if (!queued) send(Response::error(Error(Errc::overloaded, "worker pool full")));
  }

  static Response invoke(ServerCore& core, const Route& route, Request& req) noexcept {
    try {
      log::RequestScope scope(req.request_id);
      return core.router.invoke(route, req, core.authenticator);
    } catch (...) {  // invoke already maps exceptions; this guards allocation failures
      return Response::error(Errc::internal);
    }
  }

  // An error answered by the transport itself. The rest of the request was not read, so the
  // connection closes after the response.
  void reject(const Error& e) {
    log::RequestScope scope(request_id_.empty() ? (request_id_ = random_token(12)) : request_id_);
    log::info("{} rejecting request from {}: {} ({})", e.info().http_status, remote_, e.info().name, e.detail());
    header_parser_.reset();
    string_parser_.reset();
    file_parser_.reset();
    close_after_ = true;
    linger_ = true;
    send(Response::error(e));
  }

  void send(Response response) {
    state_ = State::writing;
    if (request_id_.empty()) request_id_ = random_token(12);
    const bool keep = keep_alive_ && !close_after_ && !core_.stopping;
    if (!response.body_file.empty()) return send_file(std::move(response), keep);
    status_ = response.status;
    response_ = to_wire(std::move(response), version_, keep, request_id_);
    lowest().expires_after(core_.config.request_timeout);
    bhttp::async_write(stream_, response_, bind(&Session::on_write));
  }

  // A large body streamed from its file (Beast reads it in chunks while writing).
  void send_file(Response response, bool keep) {
    const std::filesystem::path path = std::move(response.body_file);
    if (response.remove_body_file) body_file_ = path;
    bhttp::file_body::value_type file;
    beast::error_code ec;
    file.open(path.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      log::error("{} response file '{}': {}", request_id_, path.string(), ec.message());
      remove_body_file();
      return send(Response::error(Errc::io));
    }
    status_ = response.status;
    response.body.clear();
    WireResponse head = to_wire(std::move(response), version_, keep, request_id_);
    file_response_.emplace(std::move(head.base()), std::move(file));
    file_response_->prepare_payload();
    lowest().expires_after(core_.config.request_timeout);
    bhttp::async_write(stream_, *file_response_, bind(&Session::on_write));
  }

  void remove_body_file() noexcept {
    file_response_.reset();  // closes the file
    if (body_file_.empty()) return;
    std::error_code ec;
    std::filesystem::remove(body_file_, ec);
    body_file_.clear();
  }

  void on_write(beast::error_code ec, std::size_t bytes) {
    finish_request(bytes);
    const bool keep = file_response_ ? file_response_->keep_alive() : response_.keep_alive();
    remove_body_file();
    if (ec) return close_now();
    if (!keep) return graceful_close();
    response_ = {};
    request_.reset();
    wait_for_request();
  }

  // Metrics, access log and spool cleanup for a request that got a response (or was abandoned).
  void finish_request(std::size_t bytes) {
    remove_spool();
    if (!in_flight_) return;
    in_flight_ = false;
    core_.metrics.add_in_flight(-1);
    if (status_ == 0) return;  // abandoned: no response, nothing to count
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const std::string& route = request_ && !request_->route.empty() ? request_->route : kUnmatched;
    const std::string_view method = method_label(request_ ? std::string_view(request_->method) : std::string_view());
    core_.metrics.observe_request(route, method, status_, seconds);
    if (core_.options.access_log) {
      log::RequestScope scope(request_id_);
      log::info("{} {} {} {}B {}ms {}", request_ && !request_->method.empty() ? request_->method : "-",
                request_ && !request_->path.empty() ? request_->path : "-", status_, bytes,
                static_cast<long long>(seconds * 1000), remote_);
    }
  }

  // A transport failure mid-request (timeout, reset, EOF): no response is possible.
  void abandon(const beast::error_code& ec) {
    log::debug("connection from {} dropped mid-request: {}", remote_, ec.message());
    finish_request(0);
    close_now();
  }

  void remove_spool() noexcept {
    if (spool_path_.empty()) return;
    file_parser_.reset();  // closes the file if still open
    std::error_code ec;
    std::filesystem::remove(spool_path_, ec);
    spool_path_.clear();
  }

  void close_now() noexcept {
    state_ = State::closing;
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }

  // TLS: send close_notify without waiting for the peer's (marking it as already received makes
  // SSL_shutdown complete after one write). Then, only after a rejected request whose body may
  // still be arriving, half-close and drain for a moment ("lingering close"): closing a socket
  // with unread data sends a RST, which can destroy the error response (413) before the client
  // reads it.
  void graceful_close() {
    state_ = State::closing;
    lowest().expires_after(kCloseTimeout);
    if constexpr (kTls) {
      SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->safely([&] { self->linger(); }); });
    } else {
      linger();
    }
  }

  void linger() {
    if (!linger_) return close_now();
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now();
    drain();
  }

  // Reads raw TCP (below TLS) and discards it until the peer closes or kCloseTimeout passes.
  void drain() {
    buffer_.consume(buffer_.size());
    lowest().async_read_some(buffer_.prepare(kReadChunk),
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) return self->close_now();
                               self->safely([&] { self->drain(); });
                             });
  }

  static inline const std::string kUnmatched = "unmatched";

  ServerCore& core_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::uint64_t id_ = 0;
  std::string remote_;
  std::optional<ClientCertInfo> client_cert_;
  State state_ = State::handshake;

  // The current request.
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> string_parser_;
  std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
  std::filesystem::path spool_path_;
  std::shared_ptr<Request> request_;  // shared with the worker job while handling
  std::string request_id_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool close_after_ = false;
  bool linger_ = false;  // the request was rejected unread: drain before closing
  bool in_flight_ = false;
  int status_ = 0;
  std::chrono::steady_clock::time_point started_;
  WireResponse response_;
  std::optional<bhttp::response<bhttp::file_body>> file_response_;  // a response streamed from a file
  std::filesystem::path body_file_;                                 // that file, deleted once sent
};

}  // namespace

namespace {

template <class Stream>
void launch(ServerCore& core, tcp::socket&& socket) {
  std::shared_ptr<Session<Stream>> session;
  try {
    session = std::make_shared<Session<Stream>>(core, std::move(socket));
  } catch (...) {
    // The listener counted this connection; once built, the session's destructor gives it back.
    core.connections.fetch_sub(1);
    throw;
  }
  session->start();
}

}  // namespace

void launch_session(ServerCore& core, tcp::socket socket) {
  if (core.tls) {
    launch<TlsStream>(core, std::move(socket));
  } else {
    launch<beast::tcp_stream>(core, std::move(socket));
  }
}

}  // namespace sigil::http::detail
