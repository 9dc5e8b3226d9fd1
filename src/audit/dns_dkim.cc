#include "audit/dns_dkim.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "base/shared_library.h"

namespace sw::audit {
namespace {

// libcrypto is opened when a DKIM key is first inspected: linked, it would be mapped and
// relocated at every start of every command (about 3 ms), and only audit needs it.
#define SW_CRYPTO_FUNCTIONS(X)   \
  X(EVP_PKEY_new_raw_public_key) \
  X(EVP_PKEY_free)               \
  X(EVP_PKEY_get_bits)           \
  X(EVP_PKEY_eq)                 \
  X(d2i_PUBKEY)                  \
  X(d2i_PublicKey)               \
  X(BIO_new_mem_buf)             \
  X(BIO_free)                    \
  X(PEM_read_bio_PrivateKey)

struct Crypto {
#define SW_CRYPTO_POINTER(name) decltype(&::name) name = nullptr;
  SW_CRYPTO_FUNCTIONS(SW_CRYPTO_POINTER)
#undef SW_CRYPTO_POINTER
  std::string error;  // empty when loaded
};

const Crypto& crypto() {
  static const Crypto loaded = [] {
    constexpr const char* kSoname = "libcrypto.so.3";
    Crypto c;
    void* library = open_shared_library(kSoname, "install libssl3", &c.error);
    if (!library) return c;
#define SW_CRYPTO_RESOLVE(name) \
  if (!resolve_function(library, kSoname, #name, c.name, &c.error)) return c;
    SW_CRYPTO_FUNCTIONS(SW_CRYPTO_RESOLVE)
#undef SW_CRYPTO_RESOLVE
    return c;
  }();
  return loaded;
}

struct FreeKey {
  void operator()(EVP_PKEY* key) const { crypto().EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, FreeKey>;

// p= of an RSA key is SubjectPublicKeyInfo (RFC 6376); some publishers put a bare PKCS#1 key.
PkeyPtr public_key_of(const DkimKeyRecord& record, std::string& error) {
  const auto* der = reinterpret_cast<const unsigned char*>(record.public_key.data());
  long len = static_cast<long>(record.public_key.size());
  if (record.key_type == "ed25519") {
    EVP_PKEY* key = crypto().EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, der, record.public_key.size());
    if (!key) error = "p= is not a 32-byte Ed25519 key";
    return PkeyPtr(key);
  }
  if (record.key_type != "rsa") {
    error = "unknown key type k=" + record.key_type;
    return nullptr;
  }
  const unsigned char* p = der;
  EVP_PKEY* key = crypto().d2i_PUBKEY(nullptr, &p, len);
  if (!key) {
    p = der;
    key = crypto().d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len);
  }
  if (!key) error = "p= is not an RSA public key";
  return PkeyPtr(key);
}

}  // namespace

DkimKeyInspection inspect_dkim_key(const DkimKeyRecord& record, const std::string& private_key_pem) {
  DkimKeyInspection out;
  const Crypto& c = crypto();
  if (!c.error.empty()) {
    out.error = c.error;
    return out;
  }
  PkeyPtr published = public_key_of(record, out.error);
  if (!published) return out;
  out.bits = c.EVP_PKEY_get_bits(published.get());
  if (private_key_pem.empty()) return out;
  std::unique_ptr<BIO, decltype(c.BIO_free)> bio(
      c.BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())), c.BIO_free);
  PkeyPtr signing(bio ? c.PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!signing) {
    out.private_key_error = "not a PEM private key";
    return out;
  }
  out.matches_private = c.EVP_PKEY_eq(published.get(), signing.get()) == 1;
  return out;
}

}  // namespace sw::audit
