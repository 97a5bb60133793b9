#include "server/webhook/fast_request.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace rootgate::server {
namespace {

constexpr size_t kMax = 1024;

std::string Request(std::string_view request_line, std::vector<std::string> headers, std::string_view body) {
  std::string r(request_line);
  r += "\r\n";
  for (const std::string& h : headers) r += h + "\r\n";
  r += "\r\n";
  r += body;
  return r;
}

}  // namespace

TEST_CASE("fast path: the request the API server sends is taken whole") {
  const std::string body = R"({"kind":"AdmissionReview"})";
  const std::string text = Request("POST /validate?timeout=10s HTTP/1.1",
                                   {"Host: rootgate.rootgate.svc:443", "User-Agent: kube-apiserver-admission",
                                    "Content-Length: " + std::to_string(body.size()), "Accept: application/json, */*",
                                    "Content-Type: application/json", "Accept-Encoding: gzip"},
                                   body);
  const std::string buffered = text + "POST /validate";  // the next request's start after it
  const auto r = ParseFastValidate(buffered, kMax);  // views into `buffered`
  REQUIRE(r);
  CHECK(r->content_type == "application/json");
  CHECK(r->timeout == "10s");
  CHECK(r->body == body);
  CHECK(r->size == text.size());
}

TEST_CASE("fast path: accepted forms and what is read from them") {
  struct Case {
    const char* what;
    std::string text;
    std::string_view content_type, timeout;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"no query", Request("POST /validate HTTP/1.1", {"Content-Length: 2"}, "{}"), "", "", "{}"},
      {"lower-case names, no space after the colon",
       Request("POST /validate HTTP/1.1", {"content-length:2", "content-type:application/json"}, "{}"),
       "application/json", "", "{}"},
      {"timeout among other parameters, the first value",
       Request("POST /validate?a=1&timeout=2.5s&b HTTP/1.1", {"Content-Length: 2"}, "{}"), "", "2.5s", "{}"},
      {"an empty timeout", Request("POST /validate?timeout= HTTP/1.1", {"Content-Length: 2"}, "{}"), "", "", "{}"},
      {"an empty query", Request("POST /validate? HTTP/1.1", {"Content-Length: 2"}, "{}"), "", "", "{}"},
      {"Connection: keep-alive in any case",
       Request("POST /validate HTTP/1.1", {"Connection: Keep-Alive", "Content-Length: 2"}, "{}"), "", "", "{}"},
      {"a zero length", Request("POST /validate HTTP/1.1", {"Content-Length: 0"}, ""), "", "", ""},
      {"a body of exactly the cap", Request("POST /validate HTTP/1.1", {"Content-Length: 1024"}, std::string(1024, 'x')),
       "", "", std::string(1024, 'x')},
      {"a content type with parameters, passed on as sent",
       Request("POST /validate HTTP/1.1", {"Content-Type: text/plain; charset=utf-8", "Content-Length: 1"}, "x"),
       "text/plain; charset=utf-8", "", "x"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const auto r = ParseFastValidate(c.text, kMax);
    REQUIRE(r);
    CHECK(r->content_type == c.content_type);
    CHECK(r->timeout == c.timeout);
    CHECK(r->body == c.body);
    CHECK(r->size == c.text.size());
  }
}

TEST_CASE("fast path: everything else is left to the library") {
  const std::string ok_head = "POST /validate HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
  struct Case {
    const char* what;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"another method", Request("PUT /validate HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"lower-case method", Request("post /validate HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"another path", Request("POST /validatex HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"a longer path", Request("POST /validate/x HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"HTTP/1.0", Request("POST /validate HTTP/1.0", {"Content-Length: 2"}, "{}")},
      {"two spaces", Request("POST /validate  HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"percent-encoding", Request("POST /validate?timeout=10%73 HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"plus in the query", Request("POST /validate?timeout=1+s HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"a fragment", Request("POST /validate#x HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"two timeouts", Request("POST /validate?timeout=1s&timeout=2s HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"a parameter with two '='", Request("POST /validate?timeout=1s=2 HTTP/1.1", {"Content-Length: 2"}, "{}")},
      {"no Content-Length", Request("POST /validate HTTP/1.1", {"Content-Type: application/json"}, "{}")},
      {"two Content-Lengths", Request("POST /validate HTTP/1.1", {"Content-Length: 2", "Content-Length: 2"}, "{}")},
      {"a signed length", Request("POST /validate HTTP/1.1", {"Content-Length: +2"}, "{}")},
      {"a leading zero", Request("POST /validate HTTP/1.1", {"Content-Length: 02"}, "{}")},
      {"a length list", Request("POST /validate HTTP/1.1", {"Content-Length: 2, 2"}, "{}")},
      {"a length past 64 bits", Request("POST /validate HTTP/1.1", {"Content-Length: 99999999999999999999"}, "{}")},
      {"a body over the cap (the library answers 413)",
       Request("POST /validate HTTP/1.1", {"Content-Length: 1025"}, std::string(1025, 'x'))},
      {"a body not all here yet", Request("POST /validate HTTP/1.1", {"Content-Length: 3"}, "{}")},
      {"headers not all here yet", "POST /validate HTTP/1.1\r\nContent-Length: 2\r\n"},
      {"chunked", Request("POST /validate HTTP/1.1", {"Transfer-Encoding: chunked"}, "2\r\n{}\r\n0\r\n\r\n")},
      {"chunked and a length", Request("POST /validate HTTP/1.1", {"Content-Length: 2", "Transfer-Encoding: chunked"}, "{}")},
      {"a compressed body", Request("POST /validate HTTP/1.1", {"Content-Encoding: gzip", "Content-Length: 2"}, "{}")},
      {"Expect", Request("POST /validate HTTP/1.1", {"Expect: 100-continue", "Content-Length: 2"}, "{}")},
      {"Range", Request("POST /validate HTTP/1.1", {"Range: bytes=0-1", "Content-Length: 2"}, "{}")},
      {"Upgrade", Request("POST /validate HTTP/1.1", {"Upgrade: h2c", "Content-Length: 2"}, "{}")},
      {"Connection: close (the library writes that reply)",
       Request("POST /validate HTTP/1.1", {"Connection: close", "Content-Length: 2"}, "{}")},
      {"Connection with a list", Request("POST /validate HTTP/1.1", {"Connection: keep-alive, Upgrade", "Content-Length: 2"}, "{}")},
      {"two Content-Types",
       Request("POST /validate HTTP/1.1", {"Content-Type: application/json", "Content-Type: text/plain", "Content-Length: 2"}, "{}")},
      {"a space before the colon", Request("POST /validate HTTP/1.1", {"Content-Length : 2"}, "{}")},
      {"an empty name", Request("POST /validate HTTP/1.1", {": x", "Content-Length: 2"}, "{}")},
      {"no colon", Request("POST /validate HTTP/1.1", {"Content-Length 2"}, "{}")},
      {"a folded line", Request("POST /validate HTTP/1.1", {"X-A: a", " b", "Content-Length: 2"}, "{}")},
      {"a tab in a value", Request("POST /validate HTTP/1.1", {"X-A: a\tb", "Content-Length: 2"}, "{}")},
      {"trailing space in a value", Request("POST /validate HTTP/1.1", {"X-A: a ", "Content-Length: 2"}, "{}")},
      {"a bare LF inside a line", Request("POST /validate HTTP/1.1", {"X-A: a\nX-B: b", "Content-Length: 2"}, "{}")},
      {"a bare CR inside a line", Request("POST /validate HTTP/1.1", {"X-A: a\rb", "Content-Length: 2"}, "{}")},
      {"a NUL in a value", Request("POST /validate HTTP/1.1", {std::string("X-A: a\0b", 8), "Content-Length: 2"}, "{}")},
      {"obs-text in a value", Request("POST /validate HTTP/1.1", {"X-A: caf\xC3\xA9", "Content-Length: 2"}, "{}")},
      {"a head over 8 KiB", Request("POST /validate HTTP/1.1", {"X-A: " + std::string(8200, 'a'), "Content-Length: 2"}, "{}")},
      {"an empty buffer", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    CHECK_FALSE(ParseFastValidate(c.text, kMax));
  }
  // 64 header fields are read, the 65th is the library's.
  std::vector<std::string> many(63, "X-A: a");
  many.push_back("Content-Length: 2");
  CHECK(ParseFastValidate(Request("POST /validate HTTP/1.1", many, "{}"), kMax));
  many.insert(many.begin(), "X-B: b");
  CHECK_FALSE(ParseFastValidate(Request("POST /validate HTTP/1.1", many, "{}"), kMax));
  CHECK(ParseFastValidate(ok_head + "{}", kMax));
}

TEST_CASE("fast path: headers taken, body still arriving: the size to wait for") {
  const std::string whole = Request("POST /validate?timeout=10s HTTP/1.1", {"Content-Length: 10"}, "0123456789");
  const size_t head = whole.size() - 10;
  for (size_t have : {head, head + 1, head + 9}) {
    CAPTURE(have);
    size_t need = 99;
    CHECK_FALSE(ParseFastValidate(std::string_view(whole).substr(0, have), kMax, &need));
    CHECK(need == whole.size());
  }
  size_t need = 99;
  REQUIRE(ParseFastValidate(whole, kMax, &need));
  CHECK(need == 0);
  // Not taken at all: nothing to wait for.
  for (const std::string& text :
       {whole.substr(0, head - 1), Request("POST /validate HTTP/1.1", {"Content-Length: 1025"}, "{}"),
        Request("POST /validate HTTP/1.1", {"Transfer-Encoding: chunked"}, "")}) {
    CAPTURE(text);
    need = 99;
    CHECK_FALSE(ParseFastValidate(text, kMax, &need));
    CHECK(need == 0);
  }
}

TEST_CASE("fast path: replies in cpp-httplib's keep-alive format") {
  std::string out = "kept";
  REQUIRE(AppendFastReply(&out, 200, R"({"a":1})", 5, 1000));
  CHECK(out ==
        "keptHTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Keep-Alive: timeout=5, max=1000\r\n\r\n{\"a\":1}");
  struct Case {
    int status;
    const char* line;
  };
  for (const Case c : {Case{400, "HTTP/1.1 400 Bad Request\r\n"}, Case{413, "HTTP/1.1 413 Payload Too Large\r\n"},
                       Case{415, "HTTP/1.1 415 Unsupported Media Type\r\n"},
                       Case{500, "HTTP/1.1 500 Internal Server Error\r\n"}}) {
    CAPTURE(c.status);
    out.clear();
    REQUIRE(AppendFastReply(&out, c.status, "{}", 30, 7));
    CHECK(out.rfind(c.line, 0) == 0);
    CHECK(out.find("Keep-Alive: timeout=30, max=7\r\n\r\n{}") != std::string::npos);
  }
  out = "x";
  CHECK_FALSE(AppendFastReply(&out, 405, "{}", 5, 1000));  // has an Allow header: the library's
  CHECK_FALSE(AppendFastReply(&out, 302, "{}", 5, 1000));
  CHECK(out == "x");
}

}  // namespace rootgate::server
