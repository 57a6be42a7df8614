#include "storage/s3/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace s3db::s3 {

namespace {
// Every put hashes its body (ETag, payload hash) and every request its canonical form: fetch each
// algorithm once and reuse one context per thread, instead of EVP_Digest's implicit fetch and
// context allocation on every call.
const EVP_MD* fetched(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);  // kept for the process's lifetime
  if (md == nullptr) throw std::runtime_error(std::string("OpenSSL has no ") + name);
  return md;
}

// The digest lives in a stack buffer: the hex and base64 forms then cost one allocation only.
struct Digest {
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes), size}; }
};

Digest digest(const EVP_MD* md, std::string_view data) {
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx tl;
  Digest d;
  if (tl.ctx == nullptr || EVP_DigestInit_ex2(tl.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(tl.ctx, data.data(), data.size()) != 1 || EVP_DigestFinal_ex(tl.ctx, d.bytes, &d.size) != 1) {
    throw std::runtime_error("OpenSSL digest failed");
  }
  return d;
}

const EVP_MD* sha256_md() {
  static const EVP_MD* md = fetched("SHA256");
  return md;
}
const EVP_MD* md5_md() {
  static const EVP_MD* md = fetched("MD5");
  return md;
}
}  // namespace

std::string sha256(std::string_view data) { return std::string(digest(sha256_md(), data).view()); }
std::string sha256_hex(std::string_view data) { return encoding::to_hex(digest(sha256_md(), data).view()); }
std::string md5_hex(std::string_view data) { return encoding::to_hex(digest(md5_md(), data).view()); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), buf, &len) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(buf), len);
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0) return false;
  out.assign(3 * in.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts padding bytes as output: drop one per '='.
  std::size_t len = static_cast<std::size_t>(n);
  for (std::size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) --len;
  out.resize(len);
  return true;
}

std::string md5_base64(std::string_view data) { return base64_encode(digest(md5_md(), data).view()); }

}  // namespace s3db::s3
