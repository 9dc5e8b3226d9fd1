// DKIM key checks with OpenSSL: the public key published in DNS against the private key Exim signs
// with, and the key's size.
#pragma once
#include <optional>
#include <string>

#include "audit/dns_records.h"

namespace sw::audit {

struct DkimKeyInspection {
  std::string error;                    // the DNS key could not be read (bad DER, unknown k=)
  int bits = 0;                         // key size (RSA modulus bits; 256 for ed25519)
  std::optional<bool> matches_private;  // set when a private key was given and read
  std::string private_key_error;        // the private key file could not be read
};

// `private_key_pem`: the PEM text of the signing key (PKCS#1 or PKCS#8); empty: no comparison.
DkimKeyInspection inspect_dkim_key(const DkimKeyRecord& record, const std::string& private_key_pem);

}  // namespace sw::audit
