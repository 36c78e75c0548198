// OpenSSL's libcrypto, as the system provides it (Debian: libssl-dev).
// Only HMAC, digests, constant-time compare and random bytes are used.
#ifndef CLIBCRYPTO_SHIM_H
#define CLIBCRYPTO_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#endif
