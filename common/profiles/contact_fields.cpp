#include "common/profiles/contact_fields.hpp"

namespace profiled {

namespace {

// An RFC 5322 "atext" character: allowed in a dot-atom besides the dots.
bool is_atext(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '/':
    case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
        return true;
    default:
        return false;
    }
}

// An ASCII letter.
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// An ASCII letter or digit.
bool is_alnum(char c) { return is_letter(c) || (c >= '0' && c <= '9'); }

// A dot-atom: atext runs separated by single dots, none empty.
bool is_dot_atom(std::string_view s)
{
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!is_atext(s[i])) {
            return false;
        }
    }
    return true;
}

// A hostname label: 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen.
bool is_host_label(std::string_view label)
{
    if (label.empty() || label.size() > 63 || !is_alnum(label.front()) || !is_alnum(label.back()))
        return false;
    for (char c : label) {
        if (!is_alnum(c) && c != '-')
            return false;
    }
    return true;
}

// Two or more hostname labels separated by dots, the last starting with a letter.
bool is_mail_domain(std::string_view domain)
{
    std::size_t labels = 0;
    std::string_view last;
    while (true) {
        auto dot = domain.find('.');
        std::string_view label = domain.substr(0, dot);
        if (!is_host_label(label))
            return false;
        ++labels;
        last = label;
        if (dot == std::string_view::npos)
            break;
        domain.remove_prefix(dot + 1);
    }
    return labels >= 2 && is_letter(last.front());
}

} // namespace

bool is_email_address(std::string_view text)
{
    if (text.size() > max_email_bytes)
        return false;
    auto at = text.find('@');
    if (at == std::string_view::npos || at > max_email_local_bytes)
        return false;
    return is_dot_atom(text.substr(0, at)) && is_mail_domain(text.substr(at + 1));
}

bool is_e164_phone(std::string_view text)
{
    if (text.size() < 9 || text.size() > 16 || text.front() != '+' || text[1] < '1' || text[1] > '9')
        return false;
    for (char c : text.substr(2)) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

} // namespace profiled
