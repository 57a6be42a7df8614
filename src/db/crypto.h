// Internal: encryption of "secret" attributes — AES-256-GCM with a PBKDF2-SHA256 derived key.
#pragma once

#include <s3db/status.h>

#include <memory>
#include <string>
#include <string_view>

namespace s3db::db {

// Holds a derived 256-bit key. Immutable after construction: thread-safe.
class SecretBox {
 public:
  // PBKDF2-HMAC-SHA256(passphrase, salt, iterations) → 32-byte key. InvalidArgument when the
  // passphrase is empty or iterations < 1; Internal when OpenSSL fails.
  static Result<std::shared_ptr<const SecretBox>> derive(std::string_view passphrase,
                                                         std::string_view salt, int iterations);

  // base64url(nonce[12] || ciphertext || tag[16]); a fresh random nonce per call. `aad` binds the
  // value to its place (resource and attribute): moving it elsewhere makes open() fail.
  Result<std::string> seal(std::string_view plaintext, std::string_view aad) const;
  // Unauthorized when the tag does not verify (wrong passphrase or tampered value);
  // Internal on a malformed value.
  Result<std::string> open(std::string_view sealed, std::string_view aad) const;

  explicit SecretBox(const unsigned char (&key)[32]);
  ~SecretBox();

 private:
  unsigned char key_[32];
};

// Cryptographically strong random bytes (OpenSSL RAND_bytes).
std::string secure_random(std::size_t n);

}  // namespace s3db::db
