// OpenSSL's libcrypto, as the system provides it (Debian: libssl-dev).
// Only HMAC, digests, constant-time compare and random bytes are used.
#ifndef CLIBCRYPTO_SHIM_H
#define CLIBCRYPTO_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// A keyed HMAC-SHA256 context from a fetched HMAC implementation (OSSL_PARAM arrays are awkward from Swift).
static inline EVP_MAC_CTX *latchkey_hmac_sha256_context(EVP_MAC *mac, const unsigned char *key, size_t length) {
    EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);
    if (context == NULL) return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end() };
    if (EVP_MAC_init(context, key, length, params) != 1) {
        EVP_MAC_CTX_free(context);
        return NULL;
    }
    return context;
}
#endif
