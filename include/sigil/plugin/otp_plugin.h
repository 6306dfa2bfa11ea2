/* Sigil OTP plugin ABI, version 1 (stable C; see docs/otp-plugins.md and ADR 0015).
 *
 * A plugin is a shared object in the configured plugin directory that exports
 *
 *     const sigil_otp_plugin_v1 *sigil_otp_plugin_entry_v1(void);
 *
 * returning a pointer to a static description of its providers and/or channels. sigild checks
 * `abi_version == SIGIL_OTP_PLUGIN_ABI_VERSION` and refuses anything else. A later, incompatible
 * ABI gets a new entry symbol (sigil_otp_plugin_entry_v2), so one binary may keep loading v1.
 *
 * Rules for plugin authors:
 * - every callback may be called from several threads at once; make it thread-safe;
 * - callbacks must not throw (C++ plugins: catch everything) and must not keep the pointers they
 *   receive after returning; strings are NUL-terminated UTF-8 and owned by sigild;
 * - never log the `code` argument;
 * - errors: return non-zero and write a short NUL-terminated message into `err` (at most
 *   `err_len` bytes including the NUL); sigild logs it, without the code.
 */
#ifndef SIGIL_PLUGIN_OTP_PLUGIN_H
#define SIGIL_PLUGIN_OTP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIGIL_OTP_PLUGIN_ABI_VERSION 1u
#define SIGIL_OTP_PLUGIN_ENTRY "sigil_otp_plugin_entry_v1"

#if defined(__GNUC__)
#define SIGIL_OTP_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SIGIL_OTP_PLUGIN_EXPORT
#endif

/* Results of sigil_otp_provider_v1.verify (match sigil::otp::VerifyResult). */
enum sigil_otp_verify_result {
  SIGIL_OTP_OK = 0,
  SIGIL_OTP_INVALID = 1,
  SIGIL_OTP_REPLAYED = 2,
  SIGIL_OTP_EXPIRED = 3,
  SIGIL_OTP_NO_CHALLENGE = 4,
  SIGIL_OTP_NOT_ENROLLED = 5,
  SIGIL_OTP_ERROR = -1 /* internal failure: sigild answers 500, the attempt does not count */
};

/* Who a challenge is for. Absent fields are NULL. */
typedef struct sigil_otp_subject {
  const char *user_id;
  const char *username;
  const char *email;
  const char *mobile;
} sigil_otp_subject;

/* A delivered code on its way to the user. */
typedef struct sigil_otp_message {
  const char *recipient;
  const char *user_id;
  const char *username;
  const char *transaction_id;
  int64_t expires_at; /* Unix seconds */
  const char *code;   /* secret: never log it */
  const char *text;
} sigil_otp_message;

typedef struct sigil_otp_provider_v1 {
  const char *name; /* unique among all providers, [a-z0-9_-]{1,32} */
  void *ctx;        /* passed back to every callback */
  /* Starts a challenge for a transaction; *delivered = 1 if something was sent. 0 = success. */
  int (*challenge)(void *ctx, const sigil_otp_subject *subject, const char *transaction_id, int *delivered,
                   char *err, size_t err_len);
  /* Checks and consumes a code; returns a sigil_otp_verify_result. */
  int (*verify)(void *ctx, const sigil_otp_subject *subject, const char *transaction_id, const char *code);
} sigil_otp_provider_v1;

typedef struct sigil_otp_channel_v1 {
  const char *name;            /* unique among all channels */
  const char *recipient_field; /* "email", "mobile" or "username"; NULL = "mobile" */
  void *ctx;
  /* Delivers one message; 0 = delivered. */
  int (*deliver)(void *ctx, const sigil_otp_message *message, char *err, size_t err_len);
} sigil_otp_channel_v1;

typedef struct sigil_otp_plugin_v1 {
  uint32_t abi_version; /* SIGIL_OTP_PLUGIN_ABI_VERSION */
  const char *name;     /* the plugin's name, for logs */
  /* Optional (NULL): called once after loading with the plugin's config text (may be NULL);
   * non-zero refuses the plugin (sigild does not start). */
  int (*init)(const char *config, char *err, size_t err_len);
  /* Optional (NULL): called once before unloading. */
  void (*shutdown)(void);
  const sigil_otp_provider_v1 *providers;
  size_t provider_count;
  const sigil_otp_channel_v1 *channels;
  size_t channel_count;
} sigil_otp_plugin_v1;

typedef const sigil_otp_plugin_v1 *(*sigil_otp_plugin_entry_v1_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* SIGIL_PLUGIN_OTP_PLUGIN_H */
