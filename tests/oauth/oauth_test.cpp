// The OAuth 2.0 endpoints in-process (Router::dispatch) over a real SQLite store: the login page
// (GET page -> POST form -> 302 with code and state), the token endpoint (authorization_code with
// PKCE, refresh_token, client_credentials), revocation, the admin routes, and the refusals.
#include <cctype>
#include <fstream>
#include <regex>

#include "../admin/recording_sink.hpp"
#include "../auth/auth_fixture.hpp"
#include "sigil/api/oauth.hpp"
#include "sigil/auth/oauth.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/http/router.hpp"

namespace sigil::auth::test {
namespace {

using nlohmann::json;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kRedirect = "https://portal.example.com/cb";
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kPassword = "alice-password-1";

std::string enc(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string form(const Fields& f) {
  std::string out;
  for (const auto& [k, v] : f) out += (out.empty() ? "" : "&") + enc(k) + "=" + enc(v);
  return out;
}

std::string unescape(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&quot;", "\""}, {"&#39;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
  }
  return s;
}

// A query parameter of a Location URL.
std::string param(const std::string& url, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(url, m, std::regex("[?&]" + name + "=([^&]*)"))) return {};
  return *http::percent_decode(m[1].str(), true);
}

struct Page {
  int status = 0;
  http::Response res;
  Fields hidden;
  std::string location() const { return std::string(res.header("Location").value_or("")); }
  bool has_field(const std::string& name) const { return res.body.find("name=\"" + name + "\"") != std::string::npos; }
  std::string hidden_value(const std::string& name) const {
    for (const auto& [k, v] : hidden) {
      if (k == name) return v;
    }
    return {};
  }
};

class OAuthApi : public AuthStoreTest {
 protected:
  OAuthApi() : tokens_(db(), clock_), clients_(db(), clock_), oauth_(db(), clock_, clients_, tokens_) {
    store_->users().set_password(alice_, kPassword);
    channels_.add(std::make_shared<otp::FileChannel>(outbox(), "file", "username"));
    otp::DeliveredOptions d;
    d.name = "sms";
    d.channel = "file";
    providers_.add(std::make_shared<otp::DeliveredCodeProvider>(db(), clock_, box_, channels_, d));
    AuthorizationPolicy policy;
    policy.otp_provider = "sms";
    policy.pin_hash = store::PasswordParams{1, 1024, 1};
    policy.max_signatures = 10;
    authz_ = std::make_unique<AuthorizationService>(*store_, clock_, providers_, events_, policy);
    NewOAuthClient c;
    c.name = "Portal <b>";
    c.redirect_uris = {kRedirect};
    portal_ = clients_.add(c);
    api::oauth::OAuthContext ctx{oauth_, clients_, tokens_, *authz_, *store_, clock_};
    ctx.audit = &sink_;
    ctx.otp_delivered = true;
    ctx.login_policy.max_failed_logins = 3;
    api::oauth::register_routes(router_, ctx);
  }

  std::filesystem::path outbox() const { return dir_.path() / "outbox.txt"; }
  std::string last_code() const {
    std::ifstream in(outbox());
    std::string line, last;
    while (std::getline(in, line)) last = line;
    return last.substr(last.rfind(' ') + 1);
  }

  Fields params(const std::string& scope = "service") const {
    return {{"response_type", "code"}, {"client_id", portal_.client.client_id}, {"redirect_uri", kRedirect},
            {"scope", scope}, {"code_challenge", pkce_s256(kVerifier)}, {"code_challenge_method", "S256"},
            {"state", "xyz-state"}};
  }
  Fields credential_params(const std::string& cred) const {
    Fields p = params("credential");
    p.emplace_back("credentialID", cred);
    p.emplace_back("numSignatures", "1");
    p.emplace_back("hashes", base64url_encode(hash_));
    p.emplace_back("hashAlgorithmOID", "2.16.840.1.101.3.4.2.1");
    return p;
  }

  Page finish(http::Request& req) {
    Page p;
    p.res = router_.dispatch(req);
    p.status = p.res.status;
    static const std::regex hidden(R"re(<input type="hidden" name="([^"]+)" value="([^"]*)">)re");
    for (auto it = std::sregex_iterator(p.res.body.begin(), p.res.body.end(), hidden); it != std::sregex_iterator(); ++it) {
      p.hidden.emplace_back(unescape((*it)[1]), unescape((*it)[2]));
    }
    if (const auto set = p.res.header("Set-Cookie")) {
      std::smatch m;
      const std::string s(*set);
      if (std::regex_search(s, m, std::regex("sigil_oauth_csrf=([^;]+)"))) cookie_ = m[1];
    }
    return p;
  }

  Page open(const Fields& q, const std::string& prefix = "/oauth2/") {
    http::Request req;
    req.method = "GET";
    req.set_target(prefix + "authorize?" + form(q));
    req.remote_address = "192.0.2.7";
    if (!cookie_.empty()) req.headers.emplace_back("Cookie", "other=1; sigil_oauth_csrf=" + cookie_);
    return finish(req);
  }

  // Posts the page's form back: its hidden fields plus `fields` (which replace hidden ones).
  Page submit(const Page& page, const Fields& fields, const std::string& prefix = "/oauth2/") {
    Fields all;
    for (const auto& h : page.hidden) {
      if (std::none_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == h.first; })) all.push_back(h);
    }
    all.insert(all.end(), fields.begin(), fields.end());
    return post_form(prefix + "authorize", all);
  }

  Page post_form(const std::string& path, const Fields& fields) {
    http::Request req;
    req.method = "POST";
    req.set_target(path);
    req.body = form(fields);
    req.body_size = req.body.size();
    req.remote_address = "192.0.2.7";
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (!cookie_.empty()) req.headers.emplace_back("Cookie", "sigil_oauth_csrf=" + cookie_);
    return finish(req);
  }

  // The whole browser part for `q`: page, password (+ PIN) -> the redirect's code.
  std::string code_for(const Fields& q, const Fields& extra = {}) {
    const Page page = open(q);
    EXPECT_EQ(page.status, 200) << page.res.body;
    Fields f{{"username", "alice"}, {"password", kPassword}};
    f.insert(f.end(), extra.begin(), extra.end());
    const Page done = submit(page, f);
    EXPECT_EQ(done.status, 302) << done.res.body;
    EXPECT_EQ(param(done.location(), "state"), "xyz-state");
    return param(done.location(), "code");
  }

  struct Reply {
    int status;
    json body;
    http::Response res;
  };
  Reply token(const Fields& fields, const std::string& basic = {}, const std::string& path = "/oauth2/token") {
    http::Request req;
    req.method = "POST";
    req.set_target(path);
    req.body = form(fields);
    req.body_size = req.body.size();
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (!basic.empty()) req.headers.emplace_back("Authorization", "Basic " + base64_encode(as_bytes(basic)));
    const auto res = router_.dispatch(req);
    return {res.status, res.body.empty() ? json() : json::parse(res.body), res};
  }
  Fields code_grant(const std::string& code) const {
    return {{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", kRedirect}, {"code_verifier", kVerifier},
            {"client_id", portal_.client.client_id}, {"client_secret", std::string(portal_.secret.view())}};
  }
  std::string portal_basic() const { return portal_.client.client_id + ":" + std::string(portal_.secret.view()); }

  std::size_t count_events(std::string_view type) const {
    const auto all = sink_.events();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const auto& e) { return e.type == type; }));
  }
  // No audit record holds a secret. A short secret (a 4-digit PIN, a 6-digit code) is looked for as a
  // whole word: as a bare substring it turns up by chance inside random hex identifiers.
  static bool holds(std::string_view value, std::string_view secret) {
    if (secret.size() >= 12) return value.find(secret) != std::string_view::npos;
    const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
    for (auto at = value.find(secret); at != std::string_view::npos; at = value.find(secret, at + 1)) {
      const bool open_before = at == 0 || !word(value[at - 1]);
      const bool open_after = at + secret.size() == value.size() || !word(value[at + secret.size()]);
      if (open_before && open_after) return true;
    }
    return false;
  }
  void expect_no_secret_in_audit(const std::vector<std::string>& secrets) const {
    ASSERT_TRUE(holds("pin=1234;", "1234") && holds("1234", "1234") && !holds("u_0f1234ab", "1234"));
    for (const auto& e : sink_.events()) {
      for (const auto& [k, v] : e.details) {
        for (const auto& s : secrets) EXPECT_FALSE(holds(v, s)) << e.type << " " << k << ": " << v;
      }
    }
  }

  TokenService tokens_;
  OAuthClients clients_;
  OAuthService oauth_;
  otp::ProviderRegistry providers_;
  otp::ChannelRegistry channels_;
  NoAuthEvents events_;
  std::unique_ptr<AuthorizationService> authz_;
  sigil::test::RecordingSink sink_;
  http::Router router_;
  RegisteredClient portal_;
  std::string cookie_;
  Bytes hash_ = Bytes(32, 7);
};

TEST_F(OAuthApi, CodeFlowWithPkce) {
  const Page page = open(params(), "/csc/v2/oauth2/");
  ASSERT_EQ(page.status, 200) << page.res.body;
  EXPECT_EQ(page.res.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.res.header("Content-Security-Policy")->find("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
            std::string::npos);
  EXPECT_EQ(page.res.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(page.res.header("Cache-Control"), "no-store");
  const std::string set_cookie(*page.res.header("Set-Cookie"));
  for (const char* attr : {"HttpOnly", "SameSite=Strict", "Secure", "Path=/csc/v2/oauth2/"}) {
    EXPECT_NE(set_cookie.find(attr), std::string::npos) << attr;
  }
  EXPECT_TRUE(page.has_field("username") && page.has_field("password"));
  EXPECT_FALSE(page.has_field("pin") || page.has_field("otp"));
  EXPECT_EQ(page.res.body.find("http://"), std::string::npos);  // no external asset
  EXPECT_EQ(page.hidden_value("csrf"), cookie_);

  const Page done = submit(page, {{"username", "Alice"}, {"password", kPassword}}, "/csc/v2/oauth2/");
  ASSERT_EQ(done.status, 302) << done.res.body;
  EXPECT_TRUE(done.location().starts_with(std::string(kRedirect) + "?code=ac_")) << done.location();
  EXPECT_EQ(param(done.location(), "state"), "xyz-state");
  const std::string code = param(done.location(), "code");

  const Reply t = token(code_grant(code));
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.body["token_type"], "Bearer");
  EXPECT_EQ(t.body["expires_in"], 3600);
  EXPECT_EQ(t.body["scope"], "service");
  EXPECT_TRUE(t.body["refresh_token"].get<std::string>().starts_with("rt_"));
  EXPECT_EQ(t.res.header("Cache-Control"), "no-store");
  const std::string access = t.body["access_token"];
  const TokenInfo info = tokens_.authenticate(access);
  EXPECT_EQ(info.user_id, alice_);
  EXPECT_EQ(info.client_id, portal_.client.client_id);

  EXPECT_EQ(count_events(audit::type::auth_success), 1u);
  EXPECT_EQ(count_events(audit::type::oauth_code_issued), 1u);
  EXPECT_EQ(count_events(audit::type::oauth_token_issued), 1u);
  EXPECT_EQ(sink_.last().details.at("grant_type"), "authorization_code");
  EXPECT_EQ(sink_.last().details.at("user_id"), alice_);

  // The code is single use; replaying it also revokes what it produced.
  const Reply again = token(code_grant(code));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body["error"], "invalid_grant");
  EXPECT_AUTH_FAILURE(tokens_.authenticate(access), AuthFailure::token_invalid);
  expect_no_secret_in_audit(
      {kPassword, code, access, t.body["refresh_token"].get<std::string>(), std::string(portal_.secret.view())});
}

TEST_F(OAuthApi, CredentialScopeWithPin) {
  const std::string cred = credential(alice_, "pin", 2);
  authz_->set_pin(cred, "1234");
  const Page page = open(credential_params(cred));
  ASSERT_EQ(page.status, 200) << page.res.body;
  EXPECT_TRUE(page.has_field("pin"));
  EXPECT_FALSE(page.has_field("otp"));
  EXPECT_NE(page.res.body.find(cred), std::string::npos);

  // A wrong PIN after the right password: the PIN page again, with a ticket instead of the password.
  const Page wrong = submit(page, {{"username", "alice"}, {"password", kPassword}, {"pin", "9999"}});
  ASSERT_EQ(wrong.status, 400) << wrong.res.body;
  EXPECT_NE(wrong.res.body.find("not correct"), std::string::npos);
  EXPECT_TRUE(wrong.hidden_value("ticket").starts_with("lt_"));
  EXPECT_FALSE(wrong.has_field("password"));
  EXPECT_EQ(wrong.res.body.find(kPassword), std::string::npos);

  const Page done = submit(wrong, {{"pin", "1234"}});
  ASSERT_EQ(done.status, 302) << done.res.body;
  const Reply t = token(code_grant(param(done.location(), "code")));
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.body["scope"], "credential");
  EXPECT_EQ(t.body["credentialID"], cred);
  EXPECT_EQ(t.body["expires_in"], 300);
  EXPECT_FALSE(t.body.contains("refresh_token"));
  // The credential-scope token is the SAD: one signature over exactly that hash.
  const SadUse use{alice_, portal_.client.client_id, cred, {hash_}, HashAlg::sha256, std::nullopt};
  EXPECT_EQ(authz_->consume_sad(t.body["access_token"].get<std::string>(), use).remaining, 0);
  EXPECT_AUTH_FAILURE(authz_->consume_sad(t.body["access_token"].get<std::string>(), use), AuthFailure::sad_exhausted);
}

TEST_F(OAuthApi, CredentialScopeWithDeliveredOtp) {
  const std::string cred = credential(alice_, "pin_otp", 2);
  authz_->set_pin(cred, "1234");
  const Page page = open(credential_params(cred));
  ASSERT_EQ(page.status, 200) << page.res.body;
  EXPECT_FALSE(page.has_field("pin") || page.has_field("otp"));  // asked after the code is sent

  const Page factors = submit(page, {{"username", "alice"}, {"password", kPassword}});
  ASSERT_EQ(factors.status, 200) << factors.res.body;
  EXPECT_TRUE(factors.has_field("pin") && factors.has_field("otp"));
  EXPECT_FALSE(factors.has_field("password"));
  EXPECT_NE(factors.res.body.find("has been sent"), std::string::npos);
  const std::string ticket = factors.hidden_value("ticket");
  ASSERT_TRUE(ticket.starts_with("lt_"));
  const std::string otp = last_code();
  ASSERT_EQ(otp.size(), 6u);

  // The ticket is bound to the browser: with another CSRF token it starts over.
  const std::string mine = cookie_;
  cookie_ = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
  const Page other = submit(factors, {{"csrf", cookie_}, {"pin", "1234"}, {"otp", otp}});
  EXPECT_TRUE(other.has_field("password")) << other.status << " " << other.location() << other.res.body;
  cookie_ = mine;
  // The ticket is bound to the request: another numSignatures is refused and starts over.
  const Page tampered = submit(factors, {{"numSignatures", "2"}, {"pin", "1234"}, {"otp", otp}});
  EXPECT_EQ(tampered.status, 400);
  EXPECT_TRUE(tampered.has_field("password"));

  const Page wrong = submit(factors, {{"pin", "1234"}, {"otp", otp == "000000" ? "111111" : "000000"}});
  ASSERT_EQ(wrong.status, 400) << wrong.res.body;
  EXPECT_EQ(wrong.hidden_value("ticket"), ticket);

  const Page done = submit(wrong, {{"pin", "1234"}, {"otp", otp}});
  ASSERT_EQ(done.status, 302) << done.res.body;
  const Reply t = token(code_grant(param(done.location(), "code")), {});
  ASSERT_EQ(t.status, 200) << t.body;
  const SadUse use{alice_, portal_.client.client_id, cred, {hash_}, HashAlg::sha256, std::nullopt};
  EXPECT_EQ(authz_->consume_sad(t.body["access_token"].get<std::string>(), use).remaining, 0);
  // The ticket was single use.
  EXPECT_EQ(submit(wrong, {{"pin", "1234"}, {"otp", otp}}).status, 400);
  expect_no_secret_in_audit({kPassword, otp, "1234", ticket});
}

// A password set by an administrator while a sign-in is under way voids it: the code already
// handed to the client cannot be exchanged, and a ticket (password checked, factors pending) leads
// back to the login page.
TEST_F(OAuthApi, APasswordChangeVoidsASignInUnderWay) {
  const Page page = open(params(), "/csc/v2/oauth2/");
  const Page done = submit(page, {{"username", "alice"}, {"password", kPassword}}, "/csc/v2/oauth2/");
  ASSERT_EQ(done.status, 302) << done.res.body;
  store_->users().set_password(alice_, "set-by-the-admin-1");
  const Reply t = token(code_grant(param(done.location(), "code")));
  EXPECT_EQ(t.status, 400) << t.body;
  EXPECT_EQ(t.body["error"], "invalid_grant");

  const std::string cred = credential(alice_, "pin_otp", 2);
  authz_->set_pin(cred, "1234");
  const Page cpage = open(credential_params(cred));
  const Page factors = submit(cpage, {{"username", "alice"}, {"password", "set-by-the-admin-1"}});
  ASSERT_EQ(factors.status, 200) << factors.res.body;
  ASSERT_TRUE(factors.hidden_value("ticket").starts_with("lt_"));
  const std::string otp = last_code();
  store_->users().set_password(alice_, "set-by-the-admin-2");
  const Page again = submit(factors, {{"pin", "1234"}, {"otp", otp}});
  EXPECT_EQ(again.status, 400);
  EXPECT_TRUE(again.has_field("password")) << again.res.body;
  EXPECT_EQ(submit(factors, {{"pin", "1234"}, {"otp", otp}}).status, 400);  // the ticket is gone
}

// The same change landing inside the sign-in itself - after the password check, just before the
// code or the ticket is written: nothing is issued, no SAD is left behind, the sign-in form comes
// back, and the trail says why.
TEST_F(OAuthApi, APasswordChangeDuringTheSignInIssuesNothing) {
  const auto codes = [&] {
    return store_->database().query_one("SELECT COUNT(*) FROM oauth_codes WHERE user_id = $1", {alice_})->get_int(0);
  };
  const Page page = open(params(), "/csc/v2/oauth2/");
  sink_.on_next_check = [&] { store_->users().set_password(alice_, "set-by-the-admin-3"); };
  const Page refused = submit(page, {{"username", "alice"}, {"password", kPassword}}, "/csc/v2/oauth2/");
  EXPECT_EQ(refused.status, 400) << refused.location() << refused.res.body;
  EXPECT_TRUE(refused.has_field("password"));
  EXPECT_EQ(codes(), 0);
  EXPECT_EQ(sink_.last().type, audit::type::auth_failure);
  EXPECT_EQ(sink_.last().details.at("reason"), "login_superseded");

  // Credential scope with a PIN: the SAD authorised for the code is revoked with it.
  const std::string cred = credential(alice_, "pin", 2);
  authz_->set_pin(cred, "1234");
  const Page cpage = open(credential_params(cred));
  sink_.on_next_check = [&] { store_->users().set_password(alice_, "set-by-the-admin-4"); };
  const Page crefused = submit(cpage, {{"username", "alice"}, {"password", "set-by-the-admin-3"}, {"pin", "1234"}});
  EXPECT_EQ(crefused.status, 400) << crefused.location() << crefused.res.body;
  EXPECT_TRUE(crefused.has_field("password"));
  EXPECT_EQ(codes(), 0);
  EXPECT_EQ(store_->database().query_one("SELECT COUNT(*) FROM sads WHERE user_id = $1 AND revoked = 0", {alice_})->get_int(0), 0);
  EXPECT_EQ(sink_.last().details.at("reason"), "login_superseded");
}

TEST_F(OAuthApi, RefreshRotation) {
  const Reply first = token(code_grant(code_for(params())));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string rt = first.body["refresh_token"];
  const Reply second = token({{"grant_type", "refresh_token"}, {"refresh_token", rt}}, portal_basic());
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_NE(second.body["refresh_token"], rt);
  EXPECT_NO_THROW(tokens_.authenticate(second.body["access_token"].get<std::string>()));
  // The rotated token presented again: refused, and the whole grant is revoked.
  const Reply replay = token({{"grant_type", "refresh_token"}, {"refresh_token", rt}}, portal_basic());
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(replay.body["error"], "invalid_grant");
  EXPECT_AUTH_FAILURE(tokens_.authenticate(second.body["access_token"].get<std::string>()), AuthFailure::token_invalid);
}

TEST_F(OAuthApi, ClientCredentialsForAServiceUser) {
  const std::string svc = store_->users().create(store::NewUser{"batch-signer", {}, store::UserStatus::active}, {store::Role::service});
  NewOAuthClient c;
  c.name = "batch";
  c.grant_types = {"client_credentials"};
  c.scopes = {"service"};
  c.service_user_id = svc;
  const RegisteredClient batch = clients_.add(c);
  const std::string basic = batch.client.client_id + ":" + std::string(batch.secret.view());

  const Reply t = token({{"grant_type", "client_credentials"}, {"scope", "service"}}, basic);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_FALSE(t.body.contains("refresh_token"));
  EXPECT_EQ(tokens_.authenticate(t.body["access_token"].get<std::string>()).user_id, svc);

  // CSC v1 clients post JSON.
  http::Request req;
  req.method = "POST";
  req.set_target("/csc/v2/oauth2/token");
  req.body = json{{"grant_type", "client_credentials"}, {"client_id", batch.client.client_id},
                  {"client_secret", std::string(batch.secret.view())}}.dump();
  req.body_size = req.body.size();
  req.headers.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(router_.dispatch(req).status, 200);

  const Reply bad = token({{"grant_type", "client_credentials"}}, batch.client.client_id + ":cs_wrong");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body["error"], "invalid_client");
  EXPECT_EQ(bad.res.header("WWW-Authenticate"), "Basic realm=\"sigil\"");
  const Reply portal = token({{"grant_type", "client_credentials"}}, portal_basic());
  EXPECT_EQ(portal.status, 400);
  EXPECT_EQ(portal.body["error"], "unauthorized_client");
  const Reply scope = token({{"grant_type", "client_credentials"}, {"scope", "credential"}}, basic);
  EXPECT_EQ(scope.body["error"], "invalid_scope");
  EXPECT_GE(count_events(audit::type::oauth_token_refused), 3u);
}

TEST_F(OAuthApi, AuthorizeRefusals) {
  // Unknown client or unregistered redirect URI: an error page, never a redirect.
  Fields q = params();
  q[2].second = "https://evil.example.com/cb";
  Page p = open(q);
  EXPECT_EQ(p.status, 400);
  EXPECT_FALSE(p.res.header("Location"));
  EXPECT_EQ(p.res.content_type, "text/html; charset=utf-8");
  q = params();
  q[1].second = "cl_unknown";
  p = open(q);
  EXPECT_EQ(p.status, 400);
  EXPECT_FALSE(p.res.header("Location"));
  // Duplicate parameters (RFC 6749 §3.1).
  q = params();
  q.emplace_back("client_id", portal_.client.client_id);
  EXPECT_EQ(open(q).status, 400);

  // Everything else goes back to the client with the state.
  const auto refused = [&](Fields fields, const std::string& error) {
    const Page r = open(fields);
    EXPECT_EQ(r.status, 302) << r.res.body;
    EXPECT_EQ(param(r.location(), "error"), error) << r.location();
    EXPECT_EQ(param(r.location(), "state"), "xyz-state");
    EXPECT_EQ(param(r.location(), "code"), "");
  };
  q = params();
  q[5].second = "plain";
  refused(q, "invalid_request");  // PKCE plain
  q = params();
  q.erase(q.begin() + 5);
  refused(q, "invalid_request");  // no method: plain by default
  q = params();
  q[0].second = "token";
  refused(q, "unsupported_response_type");
  refused(params("admin"), "invalid_scope");
  Fields bad_cred = credential_params("cred_unknown");
  refused(bad_cred, "invalid_request");
}

TEST_F(OAuthApi, TokenRefusals) {
  const std::string code = code_for(params());
  Fields f = code_grant(code);
  f[3].second = std::string(43, 'x');  // wrong verifier
  EXPECT_EQ(token(f).body["error"], "invalid_grant");
  f = code_grant(code);
  f[5].second = "cs_wrong";
  const Reply wrong_secret = token(f);
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_EQ(wrong_secret.body["error"], "invalid_client");
  EXPECT_EQ(token({{"grant_type", "password"}, {"client_id", portal_.client.client_id}}).body["error"], "unsupported_grant_type");
  EXPECT_EQ(token({{"client_id", portal_.client.client_id}}).body["error"], "invalid_request");
  EXPECT_EQ(token({{"grant_type", "authorization_code"}, {"code", code}}).status, 401);  // no client at all
  f = code_grant(code);
  f.erase(f.begin() + 3);  // no code_verifier
  EXPECT_EQ(token(f).body["error"], "invalid_request");
  // Basic and a body secret together.
  EXPECT_EQ(token(code_grant(code), portal_basic()).body["error"], "invalid_request");
  // After all that the code still works once (none of the refusals used it up).
  EXPECT_EQ(token(code_grant(code)).status, 200);
}

TEST_F(OAuthApi, WrongPasswordShowsThePageAgainAndCounts) {
  const Page page = open(params());
  const Page wrong = submit(page, {{"username", "alice"}, {"password", "nope-nope-nope"}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_FALSE(wrong.res.header("Location"));
  EXPECT_NE(wrong.res.body.find("Sign-in failed"), std::string::npos);
  EXPECT_EQ(store_->users().get(alice_)->failed_logins, 1);
  // An unknown user gets the very same page text.
  const Page unknown = submit(page, {{"username", "mallory"}, {"password", "nope-nope-nope"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.res.body.find("Sign-in failed"), std::string::npos);
  EXPECT_EQ(sink_.last().type, audit::type::auth_failure);
  EXPECT_EQ(sink_.last().details.at("reason"), "unknown_user");
  // The third failure locks the account (login policy); then even the right password fails.
  submit(page, {{"username", "alice"}, {"password", "nope-nope-nope"}});
  submit(page, {{"username", "alice"}, {"password", "nope-nope-nope"}});
  EXPECT_EQ(count_events(audit::type::auth_lockout), 1u);
  const Page locked = submit(page, {{"username", "alice"}, {"password", kPassword}});
  EXPECT_EQ(locked.status, 400);
  EXPECT_NE(locked.res.body.find("Sign-in failed"), std::string::npos);
}

TEST_F(OAuthApi, ReflectedParametersAreEscaped) {
  Fields q = params();
  q[6].second = "\"><script>alert(1)</script>";
  q.emplace_back("description", "<img src=x onerror=alert(1)>");
  q.emplace_back("lang", "en\"><script>");
  const Page page = open(q);
  ASSERT_EQ(page.status, 200) << page.res.body;
  EXPECT_EQ(page.res.body.find("<script>"), std::string::npos);
  EXPECT_EQ(page.res.body.find("<img"), std::string::npos);
  EXPECT_NE(page.res.body.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(page.res.body.find("Portal &lt;b&gt;"), std::string::npos);
  EXPECT_EQ(page.hidden_value("state"), "\"><script>alert(1)</script>");  // round-trips intact
  const Page wrong = submit(page, {{"username", "<b>x</b>"}, {"password", "x"}});
  EXPECT_EQ(wrong.res.body.find("<b>x"), std::string::npos);
  // The redirect carries the state url-encoded.
  const Page done = submit(page, {{"username", "alice"}, {"password", kPassword}});
  ASSERT_EQ(done.status, 302);
  EXPECT_EQ(done.location().find('<'), std::string::npos);
  EXPECT_EQ(param(done.location(), "state"), "\"><script>alert(1)</script>");
}

TEST_F(OAuthApi, FormNeedsTheCsrfCookieAndIsBounded) {
  const Page page = open(params());
  cookie_.clear();
  EXPECT_EQ(submit(page, {{"username", "alice"}, {"password", kPassword}}).status, 403);
  cookie_ = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";  // another browser's token
  EXPECT_EQ(submit(page, {{"username", "alice"}, {"password", kPassword}}).status, 403);
  cookie_ = page.hidden_value("csrf");
  Fields many = page.hidden;
  for (int i = 0; i < 70; ++i) many.emplace_back("f" + std::to_string(i), "x");
  EXPECT_EQ(post_form("/oauth2/authorize", many).status, 400);
  Fields twice = page.hidden;
  twice.emplace_back("username", "alice");
  twice.emplace_back("username", "bob");
  EXPECT_EQ(post_form("/oauth2/authorize", twice).status, 400);
  EXPECT_EQ(store_->users().get(alice_)->failed_logins, 0);
}

TEST_F(OAuthApi, Revoke) {
  const Reply t = token(code_grant(code_for(params())));
  ASSERT_EQ(t.status, 200);
  const std::string access = t.body["access_token"];
  EXPECT_EQ(token({{"token", access}, {"token_type_hint", "access_token"}}, portal_basic(), "/oauth2/revoke").status, 200);
  EXPECT_AUTH_FAILURE(tokens_.authenticate(access), AuthFailure::token_invalid);
  EXPECT_EQ(token({{"token", "at_unknown"}}, portal_basic(), "/csc/v2/oauth2/revoke").status, 200);
  EXPECT_EQ(token({}, portal_basic(), "/oauth2/revoke").status, 400);
  EXPECT_EQ(token({{"token", access}}, portal_.client.client_id + ":cs_bad", "/oauth2/revoke").status, 401);
  EXPECT_EQ(sink_.last().type, audit::type::oauth_token_revoked);
  EXPECT_EQ(sink_.last().outcome, "failure");
}

TEST_F(OAuthApi, AuditFailureFailsClosed) {
  const std::string code = code_for(params());
  sink_.fail_append = true;
  const Reply t = token(code_grant(code));
  EXPECT_EQ(t.status, 503);
  EXPECT_EQ(t.body["error"], "temporarily_unavailable");
  EXPECT_FALSE(db().query_one("SELECT 1 FROM auth_tokens WHERE user_id = $1 AND revoked_at IS NULL", {alice_}));
  // The login page: no code leaves without its audit record.
  const Page page = open(params());
  const Page done = submit(page, {{"username", "alice"}, {"password", kPassword}});
  ASSERT_EQ(done.status, 302);
  EXPECT_EQ(param(done.location(), "error"), "temporarily_unavailable");
  EXPECT_EQ(param(done.location(), "code"), "");
}

TEST_F(OAuthApi, AdminRoutes) {
  http::Router admin;
  api::oauth::register_admin_routes(admin, clients_, store_->users(), sink_);
  store_->users().create(store::NewUser{"batch-signer", {}, store::UserStatus::active}, {store::Role::service});
  const auto call = [&](const std::string& method, const std::string& path, const json& body, const std::string& role) {
    http::Request req;
    req.method = method;
    req.set_target("/api/admin/v1" + path);
    if (!body.is_null()) req.body = body.dump();
    req.body_size = req.body.size();
    const auto res = admin.dispatch(req, [role](const http::Request&) {
      return std::optional<http::Principal>(http::Principal{"u1", "root", {role}, {}});
    });
    return Reply{res.status, res.body.empty() ? json() : json::parse(res.body), res};
  };
  const Reply made = call("POST", "/oauth-clients",
                          {{"name", "batch"}, {"grant_types", {"client_credentials"}}, {"scopes", {"service"}},
                           {"service_user", "batch-signer"}},
                          "admin");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = made.body["client_id"];
  const std::string secret = made.body["client_secret"];
  EXPECT_EQ(made.body["service_user"], "batch-signer");
  EXPECT_EQ(sink_.last().type, "admin.oauth_client.create");
  EXPECT_EQ(sink_.last().details.at("client_id"), id);
  expect_no_secret_in_audit({secret});
  EXPECT_EQ(token({{"grant_type", "client_credentials"}}, id + ":" + secret).status, 200);

  const Reply listed = call("GET", "/oauth-clients", nullptr, "admin");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body["oauth_clients"].size(), 2u);
  EXPECT_EQ(listed.res.body.find("client_secret"), std::string::npos);
  EXPECT_EQ(call("POST", "/oauth-clients", {{"name", "x"}, {"redirect_uris", {"http://evil.example.com/cb"}}}, "admin").status, 400);
  EXPECT_EQ(sink_.last().outcome, "failure");
  EXPECT_EQ(call("GET", "/oauth-clients", nullptr, "signer").status, 403);
  EXPECT_EQ(sink_.last().type, audit::type::auth_forbidden);
  EXPECT_EQ(call("DELETE", "/oauth-clients/" + id, nullptr, "admin").status, 204);
  EXPECT_EQ(call("DELETE", "/oauth-clients/" + id, nullptr, "admin").status, 404);
  EXPECT_EQ(token({{"grant_type", "client_credentials"}}, id + ":" + secret).status, 401);
}

}  // namespace
}  // namespace sigil::auth::test
