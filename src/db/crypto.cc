#include "db/crypto.h"

#include "db/text.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace s3db::db {
namespace {
constexpr int kNonce = 12;
constexpr int kTag = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;
}  // namespace

std::string secure_random(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

SecretBox::SecretBox(const unsigned char (&key)[32]) { std::memcpy(key_, key, sizeof key_); }
SecretBox::~SecretBox() { OPENSSL_cleanse(key_, sizeof key_); }

Result<std::shared_ptr<const SecretBox>> SecretBox::derive(std::string_view passphrase,
                                                           std::string_view salt, int iterations) {
  if (passphrase.empty()) return Status::InvalidArgument("derive key", "empty passphrase");
  if (iterations < 1) return Status::InvalidArgument("derive key", "iterations must be >= 1");
  unsigned char key[32];
  if (PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof key,
                        key) != 1) {
    return Status::Internal("derive key", "PKCS5_PBKDF2_HMAC failed");
  }
  auto box = std::make_shared<const SecretBox>(key);
  OPENSSL_cleanse(key, sizeof key);
  return std::shared_ptr<const SecretBox>(std::move(box));
}

Result<std::string> SecretBox::seal(std::string_view plaintext, std::string_view aad) const {
  std::string raw(kNonce + plaintext.size() + kTag, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(raw.data());
  if (RAND_bytes(buf, kNonce) != 1) return Status::Internal("encrypt secret", "RAND_bytes failed");
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_, buf) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                                         reinterpret_cast<const unsigned char*>(aad.data()),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), buf + kNonce, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), buf + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                          buf + kNonce + plaintext.size()) != 1) {
    return Status::Internal("encrypt secret", "OpenSSL AES-256-GCM failed");
  }
  return base64url_encode(raw);
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view aad) const {
  auto raw = base64url_decode(sealed);
  if (!raw || raw->size() < static_cast<std::size_t>(kNonce + kTag)) {
    return Status::Internal("decrypt secret", "stored value is not an encrypted secret");
  }
  const auto* buf = reinterpret_cast<const unsigned char*>(raw->data());
  const std::size_t n = raw->size() - kNonce - kTag;
  std::string out(n, '\0');
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_, buf) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                                         reinterpret_cast<const unsigned char*>(aad.data()),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        buf + kNonce, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag,
                          const_cast<unsigned char*>(buf + kNonce + n)) != 1) {
    return Status::Internal("decrypt secret", "OpenSSL AES-256-GCM failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    return Status::Unauthorized("decrypt secret",
                                "authentication failed (wrong passphrase or tampered value)");
  }
  return out;
}

}  // namespace s3db::db
