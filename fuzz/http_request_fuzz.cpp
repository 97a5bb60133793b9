// Fuzzes the webhook's own request reader (server/webhook/fast_request.h), which reads what any
// client of the HTTPS port sends. The first byte picks the body cap (0..255 KiB steps of 1 KiB,
// so that both sides of the cap are reached); the rest is the buffered input. Invariants: an
// accepted request lies inside the input — it starts with "POST /validate", its head ends with
// CRLF CRLF right before the body, its views point into it, its body is at most the cap —;
// reading just those bytes gives the same request (what follows it changes nothing), and any
// shorter prefix of them is not taken (a request is taken only when whole). A request whose body
// is still arriving asks for more bytes than are here, and is taken once they are.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "server/webhook/fast_request.h"

namespace {

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cap = static_cast<size_t>(data[0]) * 1024;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t need = 0;
  const auto r = rootgate::server::ParseFastValidate(in, cap, &need);
  if (!r) {
    // Waiting for the rest of a body: more than is here, and once it is here, taken whole.
    if (need == 0) return 0;
    FUZZ_CHECK(need > in.size());
    if (need - in.size() > (size_t{1} << 20)) return 0;
    std::string whole(in);
    whole.resize(need, 'x');
    const auto later = rootgate::server::ParseFastValidate(whole, cap);
    FUZZ_CHECK(later && later->size == need);
    return 0;
  }
  FUZZ_CHECK(need == 0);
  FUZZ_CHECK(r->size <= in.size());
  const std::string_view request = in.substr(0, r->size);
  FUZZ_CHECK(request.substr(0, 14) == "POST /validate");
  FUZZ_CHECK(r->body.size() <= cap);
  FUZZ_CHECK(r->body.data() + r->body.size() == request.data() + request.size());
  const std::string_view head = request.substr(0, request.size() - r->body.size());
  FUZZ_CHECK(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
  FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4);
  FUZZ_CHECK(Inside(r->content_type, head) && Inside(r->timeout, head));
  const auto again = rootgate::server::ParseFastValidate(request, cap);
  FUZZ_CHECK(again && again->size == r->size && again->body == r->body &&
             again->content_type == r->content_type && again->timeout == r->timeout);
  FUZZ_CHECK(!rootgate::server::ParseFastValidate(request.substr(0, request.size() - 1), cap));
  return 0;
}
