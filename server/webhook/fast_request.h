// The webhook's hot path without cpp-httplib's request parser: recognises a POST /validate
// request that has arrived whole in the connection's read buffer, and writes its reply in the
// library's own format, byte for byte. The library builds a multimap of headers compared
// letter by letter with tolower, reads the request line and headers one byte at a time through
// a virtual call, matches the route with std::regex and formats the reply through a multimap
// again: about 75,000 instructions per request next to rootgate's own ~100,000 for the decision
// (callgrind, README: Performance). Anything this path does not recognise exactly — another
// method, path or version, percent-encoding, a chunked or compressed body, Expect, Range,
// Upgrade, Connection other than keep-alive, a repeated or malformed header it reads, a body over
// the cap, a byte outside the HTTP token and field grammars, a request not yet whole — is left
// to the library untouched, so the library's behaviour (and its error replies) stays in force
// for all of it.
// Pure functions: no I/O, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rootgate::server {

struct FastRequest {
  std::string_view content_type;  // the Content-Type value; "" when absent
  std::string_view timeout;       // the first ?timeout= value; "" when absent
  std::string_view body;
  size_t size = 0;  // bytes of the whole request (request line, headers, body)
};

// `buffered` starts at a request's first byte. The request when it is a whole POST /validate
// HTTP/1.1 request on a keep-alive connection that this path takes, with a Content-Length of at
// most `max_body`; std::nullopt for anything else (see above), nothing consumed. Views point
// into `buffered`. When the request line and headers are here and taken but the body is not all
// here yet (the API server's Go client sends the headers and the body as two TLS records), also
// std::nullopt, with *need_total (when given) set to the request's whole size; else it is 0.
std::optional<FastRequest> ParseFastValidate(std::string_view buffered, size_t max_body,
                                             size_t* need_total = nullptr);

// Appends a keep-alive reply with a JSON body as cpp-httplib 0.11 writes it for the handler's
// statuses (200, 400, 413, 415, 500): status line, Content-Length, Content-Type
// (application/json; charset=utf-8), Keep-Alive: timeout=..., max=...; false, nothing
// appended, for any other status.
bool AppendFastReply(std::string* out, int status, std::string_view body, long keep_alive_timeout_s,
                     size_t keep_alive_max);

}  // namespace rootgate::server
