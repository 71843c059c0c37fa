// What profiled accepts as an email address and as an E.164 phone number.
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include "common/profiles/contact_fields.hpp"

using namespace profiled;

TEST_CASE("is_email_address accepts ordinary addresses and refuses malformed ones", "[contact_fields][email]")
{
    std::string address;
    bool accepted = false;
    std::tie(address, accepted) = GENERATE(table<std::string, bool>({
        {"user@example.com", true},
        {"test@test.com", true},
        {"jane.doe+news@mail.example.co.uk", true},
        {"o'brien_{x}~!#$%&*=?^`|/-@example.com", true},
        {"a@b.c", true},
        {"info@xn--mnchen-3ya.xn--p1ai", true},
        {"x@a-b.example", true},
        {"UPPER@EXAMPLE.COM", true},
        {"", false},
        {"user.example.com", false},
        {"@example.com", false},
        {"user@", false},
        {"user@host@example.com", false},
        {"user@localhost", false},
        {"user@10.0.0.1", false},
        {"user@example.c0m", true},
        {"user@example.9om", false},
        {"jane doe@example.com", false},
        {"jane..doe@example.com", false},
        {".jane@example.com", false},
        {"jane.@example.com", false},
        {"jane@-example.com", false},
        {"jane@example-.com", false},
        {"jane@example..com", false},
        {"jane@.example.com", false},
        {"jane@example.com.", false},
        {"jane@example.com\n", false},
        {"jane@exa_mple.com", false},
        {"jöran@example.com", false},
        {"jane@exämple.com", false},
        {"\"quoted\"@example.com", false},
    }));
    CAPTURE(address);
    CHECK(is_email_address(address) == accepted);
}

TEST_CASE("is_email_address holds the length limits exactly", "[contact_fields][email][limits]")
{
    std::string domain_189 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(57, 'c') + ".com";
    REQUIRE(domain_189.size() == 189);
    SECTION("a 64-byte local part is accepted, 65 bytes are not")
    {
        CHECK(is_email_address(std::string(64, 'l') + "@example.com"));
        CHECK_FALSE(is_email_address(std::string(65, 'l') + "@example.com"));
    }
    SECTION("254 bytes in all are accepted, 255 are not")
    {
        std::string address = std::string(64, 'l') + "@" + domain_189;
        REQUIRE(address.size() == 254);
        CHECK(is_email_address(address));
        std::string domain_190 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(58, 'c') + ".com";
        std::string too_long = std::string(64, 'l') + "@" + domain_190;
        REQUIRE(too_long.size() == 255);
        CHECK_FALSE(is_email_address(too_long));
    }
    SECTION("a 63-byte domain label is accepted, 64 bytes are not")
    {
        CHECK(is_email_address("u@" + std::string(63, 'd') + ".com"));
        CHECK_FALSE(is_email_address("u@" + std::string(64, 'd') + ".com"));
    }
}

TEST_CASE("is_e164_phone accepts '+' and 8 to 15 digits, the first not zero", "[contact_fields][phone]")
{
    std::string phone;
    bool accepted = false;
    std::tie(phone, accepted) = GENERATE(table<std::string, bool>({
        {"+1234567890", true},
        {"+14155550123", true},
        {"+447911123456", true},
        {"+12345678", true},
        {"+123456789012345", true},
        {"+1234567", false},
        {"+1234567890123456", false},
        {"1234567890", false},
        {"+0123456789", false},
        {"++1234567890", false},
        {"+1 415 555 0123", false},
        {"+1-415-555-0123", false},
        {"+1415CALLNOW", false},
        {"+14155550123\n", false},
        {" +14155550123", false},
        {"+", false},
        {"", false},
        {"(415) 555-0123", false},
    }));
    CAPTURE(phone);
    CHECK(is_e164_phone(phone) == accepted);
}
