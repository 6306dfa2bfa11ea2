/* An example OTP plugin against the stable C ABI (include/sigil/plugin/otp_plugin.h), also used by
 * tests/otp/plugin_test.cpp. It provides:
 *   - provider "example": accepts the code "424242" once per transaction id (a toy, not security);
 *   - channel "example-file": appends "<recipient> <transaction_id> <code>" lines to the file named
 *     by the plugin's config text.
 * Build: cc -shared -fPIC -fvisibility=hidden -I<sigil>/include -o example.so example_otp_plugin.c
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sigil/plugin/otp_plugin.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char out_path[512];
static char used[16][64];
static size_t used_count;

static void set_err(char *err, size_t err_len, const char *msg) {
  if (err != NULL && err_len > 0) {
    strncpy(err, msg, err_len - 1);
    err[err_len - 1] = '\0';
  }
}

static int example_init(const char *config, char *err, size_t err_len) {
  if (config == NULL || strlen(config) >= sizeof out_path) {
    set_err(err, err_len, "config must name an output file");
    return 1;
  }
  strcpy(out_path, config);
  return 0;
}

static int example_challenge(void *ctx, const sigil_otp_subject *subject, const char *transaction_id, int *delivered,
                             char *err, size_t err_len) {
  (void)ctx;
  (void)subject;
  (void)err;
  (void)err_len;
  (void)transaction_id;
  *delivered = 1;
  return 0;
}

static int example_verify(void *ctx, const sigil_otp_subject *subject, const char *transaction_id, const char *code) {
  int result = SIGIL_OTP_INVALID;
  size_t i;
  (void)ctx;
  (void)subject;
  if (strcmp(code, "424242") != 0) return SIGIL_OTP_INVALID;
  pthread_mutex_lock(&lock);
  result = SIGIL_OTP_OK;
  for (i = 0; i < used_count; ++i) {
    if (strcmp(used[i], transaction_id) == 0) result = SIGIL_OTP_REPLAYED;
  }
  if (result == SIGIL_OTP_OK && used_count < 16 && strlen(transaction_id) < 64) strcpy(used[used_count++], transaction_id);
  pthread_mutex_unlock(&lock);
  return result;
}

static int example_deliver(void *ctx, const sigil_otp_message *m, char *err, size_t err_len) {
  FILE *f;
  (void)ctx;
  pthread_mutex_lock(&lock);
  f = fopen(out_path, "a");
  if (f == NULL) {
    pthread_mutex_unlock(&lock);
    set_err(err, err_len, "cannot open output file");
    return 1;
  }
  fprintf(f, "%s %s %s\n", m->recipient, m->transaction_id, m->code);
  fclose(f);
  pthread_mutex_unlock(&lock);
  return 0;
}

static const sigil_otp_provider_v1 providers[] = {{"example", NULL, example_challenge, example_verify}};
static const sigil_otp_channel_v1 channels[] = {{"example-file", "username", NULL, example_deliver}};

static const sigil_otp_plugin_v1 plugin = {SIGIL_OTP_PLUGIN_ABI_VERSION, "example", example_init, NULL,
                                           providers, 1, channels, 1};

SIGIL_OTP_PLUGIN_EXPORT const sigil_otp_plugin_v1 *sigil_otp_plugin_entry_v1(void) { return &plugin; }
