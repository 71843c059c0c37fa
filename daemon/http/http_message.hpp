// The request and response as handlers see them: plain data, no Beast, so handler files stay light to compile.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "common/api_error.hpp"

namespace profiled {

class body_stream;

struct http_request {
    std::string method;
    std::string target; // path and query as sent
    std::string path;   // decoded path
    std::string query;  // raw query string without '?'
    std::vector<std::pair<std::string, std::string>> headers; // names lower-cased
    std::string body;
    std::string remote;

    // The first header with this (lower-case) name, or "".
    std::string_view header(std::string_view name) const;
};

struct http_response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    bool close = false; // close the connection after this response
    // When set, the body is streamed from it with chunked transfer encoding instead of sent from body.
    std::shared_ptr<body_stream> stream;
};

// A JSON response with the given status.
http_response json_response(int status, const boost::json::value& body);
// A JSON response with the given status and a body already serialized.
http_response json_text_response(int status, std::string body);
// The HTTP status for a kind of refusal.
int http_status(errc kind);
// The common error body: {"success":false,"errors":[{error_code, message, details}]}.
http_response error_response(const api_error& error);

} // namespace profiled
