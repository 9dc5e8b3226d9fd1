#include "audit/dns_dkim.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace sw::audit {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// p= of an RSA key is SubjectPublicKeyInfo (RFC 6376); some publishers put a bare PKCS#1 key.
PkeyPtr public_key_of(const DkimKeyRecord& record, std::string& error) {
  const auto* der = reinterpret_cast<const unsigned char*>(record.public_key.data());
  long len = static_cast<long>(record.public_key.size());
  if (record.key_type == "ed25519") {
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, der, record.public_key.size());
    if (!key) error = "p= is not a 32-byte Ed25519 key";
    return {key, EVP_PKEY_free};
  }
  if (record.key_type != "rsa") {
    error = "unknown key type k=" + record.key_type;
    return {nullptr, EVP_PKEY_free};
  }
  const unsigned char* p = der;
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, len);
  if (!key) {
    p = der;
    key = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len);
  }
  if (!key) error = "p= is not an RSA public key";
  return {key, EVP_PKEY_free};
}

}  // namespace

DkimKeyInspection inspect_dkim_key(const DkimKeyRecord& record, const std::string& private_key_pem) {
  DkimKeyInspection out;
  PkeyPtr published = public_key_of(record, out.error);
  if (!published) return out;
  out.bits = EVP_PKEY_get_bits(published.get());
  if (private_key_pem.empty()) return out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())), BIO_free);
  PkeyPtr signing(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
  if (!signing) {
    out.private_key_error = "not a PEM private key";
    return out;
  }
  out.matches_private = EVP_PKEY_eq(published.get(), signing.get()) == 1;
  return out;
}

}  // namespace sw::audit
