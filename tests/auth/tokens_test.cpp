// Access and refresh tokens, OAuth clients, and the authorization-code flow with PKCE.
#include <gtest/gtest.h>

#include "auth_fixture.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/auth/oauth.hpp"
#include "sigil/auth/tokens.hpp"

namespace sigil::auth::test {
namespace {

class TokensTest : public AuthStoreTest {
 protected:
  TokensTest() : tokens_(db(), clock_), clients_(db(), clock_), oauth_(db(), clock_, clients_, tokens_) {}

  TokenService tokens_;
  OAuthClients clients_;
  OAuthService oauth_;
};

TEST_F(TokensTest, AccessTokenLifecycle) {
  const IssuedTokens t = tokens_.issue(alice_, std::nullopt, "service");
  EXPECT_TRUE(t.access_token.view().starts_with("at_"));
  EXPECT_EQ(t.access_token.size(), 46u);
  EXPECT_TRUE(t.refresh_token.empty());
  EXPECT_EQ(t.expires_in, 3600);
  const TokenInfo info = tokens_.authenticate(t.access_token.view());
  EXPECT_EQ(info.user_id, alice_);
  EXPECT_EQ(info.scope, "service");
  // Only the hash is stored.
  EXPECT_FALSE(db().query_one("SELECT 1 FROM auth_tokens WHERE token_hash = $1", {std::string(t.access_token.view())}));

  EXPECT_AUTH_FAILURE(tokens_.authenticate("at_short"), AuthFailure::token_invalid);
  EXPECT_AUTH_FAILURE(tokens_.authenticate("at_" + std::string(43, 'A')), AuthFailure::token_invalid);
  clock_.advance(std::chrono::seconds{3600});
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t.access_token.view()), AuthFailure::token_expired);

  const IssuedTokens t2 = tokens_.issue(alice_, std::nullopt, "service");
  EXPECT_TRUE(tokens_.revoke(t2.access_token.view()));
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t2.access_token.view()), AuthFailure::token_invalid);
  EXPECT_FALSE(tokens_.revoke("at_" + std::string(43, 'B')));

  const IssuedTokens t3 = tokens_.issue(alice_, std::nullopt, "service");
  store_->users().set_status(alice_, store::UserStatus::disabled);
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t3.access_token.view()), AuthFailure::token_invalid);
}

TEST_F(TokensTest, CredentialScopeIsShortLivedWithoutRefresh) {
  NewOAuthClient c;
  c.name = "portal";
  c.redirect_uris = {"https://portal.example.com/cb"};
  const std::string client = clients_.add(c).client.client_id;
  const IssuedTokens t = tokens_.issue(alice_, client, "credential", std::string("cred_1"), true);
  EXPECT_EQ(t.expires_in, 300);
  EXPECT_TRUE(t.refresh_token.empty());
  const TokenInfo info = tokens_.authenticate(t.access_token.view());
  EXPECT_EQ(info.credential_id, "cred_1");
  EXPECT_EQ(info.client_id, client);
  // A client removed after it authenticated gets nothing, and its tokens go with it.
  EXPECT_AUTH_FAILURE(tokens_.issue(alice_, std::string("cl_never_registered"), "service"), AuthFailure::client_invalid);
  ASSERT_TRUE(clients_.remove(client));
  EXPECT_AUTH_FAILURE(tokens_.issue(alice_, client, "service"), AuthFailure::client_invalid);
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t.access_token.view()), AuthFailure::token_invalid);
  EXPECT_AUTH_FAILURE(tokens_.issue(alice_, std::nullopt, "credential"), AuthFailure::scope_invalid);
  EXPECT_AUTH_FAILURE(tokens_.issue(alice_, std::nullopt, "admin"), AuthFailure::scope_invalid);
}

TEST_F(TokensTest, RefreshRotatesAndReuseRevokesTheGrant) {
  const IssuedTokens first = tokens_.issue(alice_, std::nullopt, "service", std::nullopt, true);
  ASSERT_FALSE(first.refresh_token.empty());
  EXPECT_AUTH_FAILURE(tokens_.authenticate(first.refresh_token.view()), AuthFailure::token_invalid);
  const IssuedTokens second = tokens_.refresh(first.refresh_token.view(), std::nullopt);
  EXPECT_EQ(second.grant_id, first.grant_id);
  EXPECT_NE(second.refresh_token.view(), first.refresh_token.view());
  EXPECT_NO_THROW(tokens_.authenticate(second.access_token.view()));
  // The old refresh token again: theft assumed, the whole grant goes.
  EXPECT_AUTH_FAILURE(tokens_.refresh(first.refresh_token.view(), std::nullopt), AuthFailure::grant_invalid);
  EXPECT_AUTH_FAILURE(tokens_.authenticate(second.access_token.view()), AuthFailure::token_invalid);
  EXPECT_AUTH_FAILURE(tokens_.refresh(second.refresh_token.view(), std::nullopt), AuthFailure::grant_invalid);
}

TEST_F(TokensTest, RevokingARefreshTokenRevokesItsGrantButNotTheOtherWayRound) {
  const IssuedTokens a = tokens_.issue(alice_, std::nullopt, "service", std::nullopt, true);
  EXPECT_TRUE(tokens_.revoke(a.access_token.view()));
  const IssuedTokens b = tokens_.refresh(a.refresh_token.view(), std::nullopt);  // refresh still works
  EXPECT_TRUE(tokens_.revoke(b.refresh_token.view()));
  EXPECT_AUTH_FAILURE(tokens_.authenticate(b.access_token.view()), AuthFailure::token_invalid);
  const IssuedTokens other = tokens_.issue(alice_, std::nullopt, "service");
  EXPECT_NO_THROW(tokens_.authenticate(other.access_token.view()));  // another grant
  EXPECT_EQ(tokens_.revoke_user(alice_), 1);
  clock_.advance(std::chrono::seconds{31 * 24 * 3600 + 86400});
  EXPECT_GE(tokens_.purge_expired(), 4);
}

// authenticate(token, Read::cached) reuses what it read for cache_ttl (2 s by default); the
// default, Read::fresh, always reads the store. Revocations through the
// service, or announced with forget_cached(), take effect at once; one behind its back (another
// process) when the entry ages out. The signing path does not rely on it: consume_sad re-reads
// the token (AuthorizationTest.SpendRechecksTokenAndCredentialAgainstTheStore).
TEST_F(TokensTest, CachedTokensStayRevocable) {
  constexpr auto kCached = TokenService::Read::cached;
  const IssuedTokens t = tokens_.issue(alice_, std::nullopt, "service");
  (void)tokens_.authenticate(t.access_token.view(), kCached);  // now cached
  EXPECT_TRUE(tokens_.revoke(t.access_token.view()));
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t.access_token.view(), kCached), AuthFailure::token_invalid);

  const IssuedTokens t2 = tokens_.issue(alice_, std::nullopt, "service");
  (void)tokens_.authenticate(t2.access_token.view(), kCached);
  db().exec("UPDATE auth_tokens SET revoked_at = 1 WHERE token_hash = $1", {sha256_hex(t2.access_token.view())});
  EXPECT_NO_THROW(tokens_.authenticate(t2.access_token.view(), kCached));  // the cache still answers
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t2.access_token.view()), AuthFailure::token_invalid);  // Read::fresh
  clock_.advance(std::chrono::seconds{2});
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t2.access_token.view(), kCached), AuthFailure::token_invalid);

  const IssuedTokens t3 = tokens_.issue(alice_, std::nullopt, "service");
  (void)tokens_.authenticate(t3.access_token.view(), kCached);
  store_->users().set_status(alice_, store::UserStatus::disabled);
  tokens_.forget_cached();
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t3.access_token.view(), kCached), AuthFailure::token_invalid);
  store_->users().set_status(alice_, store::UserStatus::active);

  // cache_ttl 0: every call reads the store.
  TokenOptions o;
  o.cache_ttl = std::chrono::milliseconds{0};
  TokenService uncached(db(), clock_, o);
  const IssuedTokens t4 = uncached.issue(alice_, std::nullopt, "service");
  (void)uncached.authenticate(t4.access_token.view(), kCached);
  db().exec("UPDATE auth_tokens SET revoked_at = 1 WHERE token_hash = $1", {sha256_hex(t4.access_token.view())});
  EXPECT_AUTH_FAILURE(uncached.authenticate(t4.access_token.view(), kCached), AuthFailure::token_invalid);
}

TEST(Pkce, Rfc7636AppendixB) {
  EXPECT_EQ(pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_AUTH_FAILURE(pkce_s256("short"), AuthFailure::pkce_invalid);
  EXPECT_AUTH_FAILURE(pkce_s256(std::string(43, '!')), AuthFailure::pkce_invalid);
}

class OAuthTest : public TokensTest {
 protected:
  OAuthTest() {
    NewOAuthClient c;
    c.name = "portal";
    c.redirect_uris = {"https://portal.example.com/cb", "http://127.0.0.1:8080/cb"};
    portal_ = clients_.add(c);
  }
  AuthorizationRequest request(const std::string& scope = "service") const {
    AuthorizationRequest r;
    r.client_id = portal_.client.client_id;
    r.redirect_uri = "https://portal.example.com/cb";
    r.scope = scope;
    r.code_challenge = pkce_s256(verifier_);
    return r;
  }
  std::optional<std::string_view> secret() const { return portal_.secret.view(); }

  RegisteredClient portal_;
  std::string verifier_ = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
};

TEST_F(OAuthTest, ClientRegistry) {
  EXPECT_TRUE(portal_.client.client_id.starts_with("cl_"));
  EXPECT_TRUE(portal_.secret.view().starts_with("cs_"));
  const auto listed = clients_.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].redirect_uris, portal_.client.redirect_uris);
  EXPECT_EQ(listed[0].grant_types, (std::vector<std::string>{"authorization_code", "refresh_token"}));
  EXPECT_TRUE(listed[0].confidential);
  EXPECT_NO_THROW(clients_.authenticate(portal_.client.client_id, secret()));
  EXPECT_AUTH_FAILURE(clients_.authenticate(portal_.client.client_id, std::string_view("cs_wrong")), AuthFailure::client_invalid);
  EXPECT_AUTH_FAILURE(clients_.authenticate(portal_.client.client_id, std::nullopt), AuthFailure::client_invalid);
  EXPECT_AUTH_FAILURE(clients_.authenticate("cl_unknown", secret()), AuthFailure::client_invalid);

  for (const std::string bad : {"http://portal.example.com/cb", "https://x/cb#frag", "", "javascript:alert(1)"}) {
    NewOAuthClient c;
    c.name = "bad";
    c.redirect_uris = {bad};
    EXPECT_SIGIL_ERROR(clients_.add(c), Errc::invalid_argument);
  }
  NewOAuthClient app;
  app.name = "mobile";
  app.confidential = false;
  app.redirect_uris = {"com.example.app:/oauth"};
  const RegisteredClient pub = clients_.add(app);
  EXPECT_TRUE(pub.secret.empty());
  EXPECT_NO_THROW(clients_.authenticate(pub.client.client_id, std::nullopt));
  EXPECT_TRUE(clients_.remove(pub.client.client_id));
  EXPECT_FALSE(clients_.remove(pub.client.client_id));
}

TEST_F(OAuthTest, ValidateChecksClientRedirectScopeAndPkce) {
  EXPECT_NO_THROW(oauth_.validate(request()));
  AuthorizationRequest r = request();
  r.redirect_uri = "https://portal.example.com/cb/";  // exact match only
  EXPECT_AUTH_FAILURE(oauth_.validate(r), AuthFailure::redirect_uri_invalid);
  r = request();
  r.client_id = "cl_nope";
  EXPECT_AUTH_FAILURE(oauth_.validate(r), AuthFailure::client_invalid);
  r = request();
  r.code_challenge_method = "plain";
  EXPECT_AUTH_FAILURE(oauth_.validate(r), AuthFailure::pkce_invalid);
  r = request();
  r.code_challenge.clear();
  EXPECT_AUTH_FAILURE(oauth_.validate(r), AuthFailure::pkce_invalid);
  r = request("admin");
  EXPECT_AUTH_FAILURE(oauth_.validate(r), AuthFailure::scope_invalid);
  r = request("credential");
  EXPECT_AUTH_FAILURE(oauth_.validate(r), AuthFailure::scope_invalid);  // no credential
  r = request();
  r.response_type = "token";
  EXPECT_AUTH_FAILURE(oauth_.validate(r), AuthFailure::unauthorized_client);
}

TEST_F(OAuthTest, CodeFlowWithPkce) {
  const SecretString code = oauth_.issue_code(request(), alice_);
  const auto id = portal_.client.client_id;
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(id, secret(), code.view(), "https://portal.example.com/cb", std::string(43, 'x')),
                      AuthFailure::grant_invalid);
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(id, secret(), code.view(), "http://127.0.0.1:8080/cb", verifier_),
                      AuthFailure::grant_invalid);
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(id, std::string_view("cs_bad"), code.view(), "https://portal.example.com/cb", verifier_),
                      AuthFailure::client_invalid);
  const IssuedTokens t = oauth_.exchange_code(id, secret(), code.view(), "https://portal.example.com/cb", verifier_);
  EXPECT_FALSE(t.refresh_token.empty());
  const TokenInfo info = tokens_.authenticate(t.access_token.view());
  EXPECT_EQ(info.user_id, alice_);
  EXPECT_EQ(info.client_id, id);

  // A replayed code fails and takes its tokens with it.
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(id, secret(), code.view(), "https://portal.example.com/cb", verifier_),
                      AuthFailure::grant_invalid);
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t.access_token.view()), AuthFailure::token_invalid);
}

TEST_F(OAuthTest, CodeIsBoundToClientAndExpires) {
  NewOAuthClient c;
  c.name = "other";
  c.redirect_uris = {"https://portal.example.com/cb"};
  const RegisteredClient other = clients_.add(c);
  const SecretString code = oauth_.issue_code(request(), alice_);
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(other.client.client_id, other.secret.view(), code.view(),
                                           "https://portal.example.com/cb", verifier_),
                      AuthFailure::grant_invalid);
  const SecretString late = oauth_.issue_code(request(), alice_);
  clock_.advance(std::chrono::seconds{61});
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(portal_.client.client_id, secret(), late.view(), "https://portal.example.com/cb", verifier_),
                      AuthFailure::grant_invalid);
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(portal_.client.client_id, secret(), "ac_unknown", "https://portal.example.com/cb", verifier_),
                      AuthFailure::grant_invalid);
}

TEST_F(OAuthTest, CredentialScopeTokenIsTheSad) {
  otp::ProviderRegistry providers;
  NoAuthEvents events;
  AuthorizationService authz(*store_, clock_, providers, events);
  const std::string cred = credential(alice_, "none", 2);
  CredentialAuthRequest a;
  a.user_id = alice_;
  a.credential_id = cred;
  a.num_signatures = 1;
  a.hashes = {Bytes(32, 7)};
  a.hash_alg = HashAlg::sha256;
  const Sad sad = authz.authorize_credential(a);

  AuthorizationRequest r = request("credential");
  r.credential_id = cred;
  EXPECT_AUTH_FAILURE(oauth_.issue_code(r, alice_), AuthFailure::grant_invalid);       // no SAD
  EXPECT_AUTH_FAILURE(oauth_.issue_code(r, bob_, sad.id), AuthFailure::grant_invalid);  // someone else's
  const SecretString code = oauth_.issue_code(r, alice_, sad.id);
  const IssuedTokens t = oauth_.exchange_code(portal_.client.client_id, secret(), code.view(), r.redirect_uri, verifier_);
  EXPECT_TRUE(t.refresh_token.empty());
  EXPECT_EQ(t.credential_id, cred);
  EXPECT_EQ(t.expires_in, 300);
  const TokenInfo info = tokens_.authenticate(t.access_token.view());
  EXPECT_EQ(info.scope, "credential");

  const SadUse use{alice_, info.client_id, cred, {Bytes(32, 7)}, HashAlg::sha256, std::nullopt};
  EXPECT_AUTH_FAILURE(authz.consume_sad(sad.value.view(), use), AuthFailure::sad_unknown);  // re-keyed
  SadUse other_client = use;
  other_client.client_id = "cl_other";
  EXPECT_AUTH_FAILURE(authz.consume_sad(t.access_token.view(), other_client), AuthFailure::sad_wrong_client);
  EXPECT_EQ(authz.consume_sad(t.access_token.view(), use).remaining, 0);
  EXPECT_AUTH_FAILURE(authz.consume_sad(t.access_token.view(), use), AuthFailure::sad_exhausted);
}

TEST_F(OAuthTest, RefreshGrant) {
  AuthorizationRequest r = request();

  const SecretString code2 = oauth_.issue_code(request(), alice_);
  const IssuedTokens s = oauth_.exchange_code(portal_.client.client_id, secret(), code2.view(), r.redirect_uri, verifier_);
  const IssuedTokens s2 = oauth_.refresh(portal_.client.client_id, secret(), s.refresh_token.view());
  EXPECT_NO_THROW(tokens_.authenticate(s2.access_token.view()));
  // Another client cannot use the portal's refresh token.
  NewOAuthClient c;
  c.name = "other";
  c.redirect_uris = {"https://other.example.com/cb"};
  const RegisteredClient other = clients_.add(c);
  EXPECT_AUTH_FAILURE(oauth_.refresh(other.client.client_id, other.secret.view(), s2.refresh_token.view()),
                      AuthFailure::grant_invalid);
}

// grant_type=client_credentials: a confidential client bound to one service user.
TEST_F(OAuthTest, ClientCredentialsForAServiceUser) {
  const std::string svc = store_->users().create(store::NewUser{"svc-batch", {}, store::UserStatus::active}, {store::Role::service});
  NewOAuthClient c;
  c.name = "batch";
  c.grant_types = {"client_credentials"};
  c.scopes = {"service"};
  c.service_user_id = svc;
  const RegisteredClient batch = clients_.add(c);  // no redirect URI needed
  EXPECT_EQ(clients_.get(batch.client.client_id)->service_user_id, svc);

  const IssuedTokens t = oauth_.client_credentials(batch.client.client_id, batch.secret.view());
  EXPECT_TRUE(t.refresh_token.empty());
  EXPECT_EQ(t.scope, "service");
  const TokenInfo info = tokens_.authenticate(t.access_token.view());
  EXPECT_EQ(info.user_id, svc);
  EXPECT_EQ(info.client_id, batch.client.client_id);
  EXPECT_NO_THROW(oauth_.client_credentials(batch.client.client_id, batch.secret.view(), "service"));
  EXPECT_AUTH_FAILURE(oauth_.client_credentials(batch.client.client_id, batch.secret.view(), "credential"),
                      AuthFailure::scope_invalid);
  EXPECT_AUTH_FAILURE(oauth_.client_credentials(batch.client.client_id, std::string_view("cs_wrong")),
                      AuthFailure::client_invalid);
  // The portal has no service user and no such grant.
  EXPECT_AUTH_FAILURE(oauth_.client_credentials(portal_.client.client_id, secret()), AuthFailure::unauthorized_client);
  // A disabled service user gets nothing.
  store_->users().set_status(svc, store::UserStatus::disabled);
  EXPECT_AUTH_FAILURE(oauth_.client_credentials(batch.client.client_id, batch.secret.view()), AuthFailure::user_disabled);

  // Registration rules: public clients, people and unbound clients cannot use the grant.
  NewOAuthClient pub = c;
  pub.confidential = false;
  EXPECT_SIGIL_ERROR(clients_.add(pub), Errc::invalid_argument);
  NewOAuthClient person = c;
  person.service_user_id = alice_;  // a signer, not a service user
  EXPECT_SIGIL_ERROR(clients_.add(person), Errc::invalid_argument);
  NewOAuthClient unbound = c;
  unbound.service_user_id.reset();
  EXPECT_SIGIL_ERROR(clients_.add(unbound), Errc::invalid_argument);
  NewOAuthClient bound_without_grant;
  bound_without_grant.name = "x";
  bound_without_grant.redirect_uris = {"https://x.example.com/cb"};
  bound_without_grant.service_user_id = svc;
  EXPECT_SIGIL_ERROR(clients_.add(bound_without_grant), Errc::invalid_argument);
  NewOAuthClient code_without_uri;
  code_without_uri.name = "y";
  EXPECT_SIGIL_ERROR(clients_.add(code_without_uri), Errc::invalid_argument);
}

TEST_F(OAuthTest, RevokeOnlyTheClientsOwnTokens) {
  const SecretString code = oauth_.issue_code(request(), alice_);
  const IssuedTokens t = oauth_.exchange_code(portal_.client.client_id, secret(), code.view(), "https://portal.example.com/cb", verifier_);
  NewOAuthClient c;
  c.name = "other";
  c.redirect_uris = {"https://other.example.com/cb"};
  const RegisteredClient other = clients_.add(c);
  EXPECT_FALSE(oauth_.revoke(other.client.client_id, other.secret.view(), t.access_token.view()));
  EXPECT_NO_THROW(tokens_.authenticate(t.access_token.view()));
  EXPECT_AUTH_FAILURE(oauth_.revoke(portal_.client.client_id, std::string_view("cs_bad"), t.access_token.view()),
                      AuthFailure::client_invalid);
  EXPECT_FALSE(oauth_.revoke(portal_.client.client_id, secret(), "at_unknown"));
  // A refresh token takes its grant (and so the access token) with it.
  EXPECT_TRUE(oauth_.revoke(portal_.client.client_id, secret(), t.refresh_token.view()));
  EXPECT_AUTH_FAILURE(tokens_.authenticate(t.access_token.view()), AuthFailure::token_invalid);
}

// A login reads the user's login epoch with the password hash it checks; what it then issues is
// refused if a password change, a disable or a revocation landed in between (the race an
// administrator's password reset used to lose against a login already past its Argon2 check).
TEST_F(OAuthTest, WhatALoginIssuesIsVoidOnceTheUserChanged) {
  config::AuthConfig policy;
  auto& users = store_->users();
  users.set_password(alice_, "correct horse battery");
  std::int64_t epoch = -1;
  ASSERT_EQ(users.verify_password("alice", "correct horse battery", clock_, policy, &epoch), store::VerifyResult::ok);
  EXPECT_EQ(epoch, users.get(alice_)->login_epoch);
  EXPECT_EQ(tokens_.login_epoch(alice_), epoch);
  EXPECT_FALSE(tokens_.login_epoch("u_nobody"));

  // Tokens: written at the epoch the password was checked at, refused after a change.
  EXPECT_NO_THROW(tokens_.issue(alice_, std::nullopt, "service", std::nullopt, false, epoch));
  users.set_password(alice_, "new password by the admin");  // the check above used the old one
  EXPECT_EQ(users.get(alice_)->login_epoch, epoch + 1);
  const auto before = db().query_one("SELECT COUNT(*) FROM auth_tokens")->get_int(0);
  EXPECT_AUTH_FAILURE(tokens_.issue(alice_, std::nullopt, "service", std::nullopt, true, epoch),
                      AuthFailure::login_superseded);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM auth_tokens")->get_int(0), before);  // nothing written

  // A code and a ticket likewise, and a code issued before the change cannot be exchanged after it.
  epoch = *tokens_.login_epoch(alice_);
  const SecretString code = oauth_.issue_code(request(), alice_, std::nullopt, epoch);
  LoginTickets tickets(db(), clock_, std::chrono::seconds{120}, 3);
  const SecretString ticket = tickets.create(alice_, portal_.client.client_id, "d", std::nullopt, epoch);
  EXPECT_EQ(tickets.check(ticket.view(), portal_.client.client_id, "d")->login_epoch, epoch);
  EXPECT_EQ(tokens_.revoke_user(alice_), 1);  // what an administrator's disable or password reset does
  EXPECT_EQ(users.get(alice_)->login_epoch, epoch + 1);
  EXPECT_AUTH_FAILURE(oauth_.exchange_code(portal_.client.client_id, secret(), code.view(), "https://portal.example.com/cb",
                                           verifier_),
                      AuthFailure::login_superseded);
  EXPECT_AUTH_FAILURE(oauth_.issue_code(request(), alice_, std::nullopt, epoch), AuthFailure::login_superseded);
  EXPECT_AUTH_FAILURE(tickets.create(alice_, portal_.client.client_id, "d", std::nullopt, epoch),
                      AuthFailure::login_superseded);

  // Disabling (a status change) moves the epoch too, and a disabled user gets nothing at any epoch.
  epoch = *tokens_.login_epoch(alice_);
  users.set_status(alice_, store::UserStatus::disabled);
  EXPECT_EQ(users.get(alice_)->login_epoch, epoch + 1);
  EXPECT_AUTH_FAILURE(tokens_.issue(alice_, std::nullopt, "service", std::nullopt, false, epoch + 1),
                      AuthFailure::login_superseded);
  EXPECT_AUTH_FAILURE(oauth_.issue_code(request(), alice_), AuthFailure::login_superseded);

  // The current epoch of an active user works again.
  users.set_status(alice_, store::UserStatus::active);
  EXPECT_NO_THROW(tokens_.issue(alice_, std::nullopt, "service", std::nullopt, false, *tokens_.login_epoch(alice_)));
}

TEST_F(OAuthTest, LoginTicketsAreBoundShortLivedAndSingleUse) {
  LoginTickets tickets(db(), clock_, std::chrono::seconds{120}, 2);
  const std::string id = portal_.client.client_id;
  const SecretString t = tickets.create(alice_, id, "digest-1", std::string("tx-1"));
  EXPECT_TRUE(t.view().starts_with("lt_"));
  EXPECT_FALSE(db().query_one("SELECT 1 FROM oauth_login_tickets WHERE ticket_hash = $1", {std::string(t.view())}));
  const auto ok = tickets.check(t.view(), id, "digest-1");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->user_id, alice_);
  EXPECT_EQ(ok->transaction_id, "tx-1");
  EXPECT_FALSE(tickets.check(t.view(), id, "digest-2"));     // another request
  EXPECT_FALSE(tickets.check(t.view(), "cl_other", "digest-1"));  // another client
  EXPECT_FALSE(tickets.check("lt_forged", id, "digest-1"));
  EXPECT_TRUE(tickets.fail(t.view()));   // one attempt left
  EXPECT_FALSE(tickets.fail(t.view()));  // used up
  EXPECT_FALSE(tickets.check(t.view(), id, "digest-1"));

  const SecretString u = tickets.create(alice_, id, "digest-1", std::nullopt);
  EXPECT_TRUE(tickets.consume(u.view()));
  EXPECT_FALSE(tickets.consume(u.view()));
  const SecretString late = tickets.create(alice_, id, "digest-1", std::nullopt);
  clock_.advance(std::chrono::seconds{121});
  EXPECT_FALSE(tickets.check(late.view(), id, "digest-1"));
  EXPECT_EQ(tickets.purge_expired(), 1);
}

}  // namespace
}  // namespace sigil::auth::test
