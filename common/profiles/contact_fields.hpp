// The profile's contact fields: what counts as an email address and as an E.164 phone number.
#pragma once

#include <cstddef>
#include <string_view>

namespace profiled {

// The longest email address accepted, in bytes (RFC 5321's path limit less the angle brackets).
inline constexpr std::size_t max_email_bytes = 254;
// The longest local part (before the '@') of an email address, in bytes.
inline constexpr std::size_t max_email_local_bytes = 64;

// True for an address like jane.doe+tag@mail.example.com: an RFC 5322 dot-atom local part of at
// most 64 bytes, '@', and a domain of two or more hostname labels whose last one starts with a letter;
// ASCII only, at most 254 bytes. schemas/json/common.schema.json#/$defs/email is the same rule as a pattern.
bool is_email_address(std::string_view text);

// True for an E.164 number: '+', a non-zero digit, then 7 to 14 more digits (8 to 15 digits in all).
bool is_e164_phone(std::string_view text);

} // namespace profiled
