#include "daemon/webhooks/webhook_signature.hpp"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace profiled {

std::string hmac_sha256_hex(std::string_view key, std::string_view message)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length))
        throw std::runtime_error("HMAC-SHA256 failed");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body)
{
    std::string t = std::to_string(unix_seconds);
    std::string signed_text = t + "." + std::string(body);
    return "t=" + t + ",v1=" + hmac_sha256_hex(secret, signed_text);
}

} // namespace profiled
