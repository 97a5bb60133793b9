// IndefiniteArticle and WithArticle, table-driven. The expected articles are those of English
// usage (Merriam-Webster's pronunciations), written by hand; the rows cover the words rootgate's
// messages build from (address kinds, media types, kinds of resources) and each exception.
#include "policy/english.h"

#include <doctest/doctest.h>

namespace {

using rootgate::IndefiniteArticle;
using rootgate::WithArticle;

TEST_CASE("IndefiniteArticle") {
  const struct {
    const char* phrase;
    const char* want;
  } cases[] = {
      // The address kinds of RegistryLimits.
      {"unspecified address", "an"}, {"loopback address", "a"}, {"link-local address", "a"},
      {"cloud metadata address", "a"}, {"multicast address", "a"}, {"broadcast address", "a"},
      // Plain vowel and consonant letters, either case.
      {"image", "an"}, {"Ingress", "an"}, {"object", "an"}, {"error", "an"}, {"array", "an"},
      {"integer", "an"}, {"ordinary file", "an"}, {"Pod", "a"}, {"Deployment", "a"}, {"string", "a"},
      {"yaml document", "a"}, {"zero", "a"},
      // u said "you", u said "uh".
      {"unique name", "a"}, {"unit", "a"}, {"Unix socket", "a"}, {"universal", "a"}, {"user", "a"},
      {"usable value", "a"}, {"usual case", "a"}, {"utility", "a"}, {"unary", "a"}, {"union", "a"},
      {"unknown user", "an"}, {"unsupported layer", "an"}, {"unreadable file", "an"},
      {"uninstalled package", "an"}, {"unidentified", "an"}, {"unimportant", "an"}, {"upper", "an"},
      {"urban", "an"},
      // e and o said as consonants.
      {"euro", "a"}, {"European", "a"}, {"one-off", "a"}, {"once-only", "a"}, {"onerous task", "an"},
      {"only", "an"},
      // h: silent or not.
      {"hour", "an"}, {"honest mistake", "an"}, {"honour", "an"}, {"heir", "an"}, {"host", "a"},
      {"hidden file", "a"},
      // Acronyms said letter by letter.
      {"HTTP registry", "an"}, {"HTTPS URL", "an"}, {"OCI image", "an"}, {"IPv6 address", "an"},
      {"NFS mount", "an"}, {"FQDN", "an"}, {"RFC", "an"},
      {"X", "an"}, {"UID", "a"}, {"URL", "a"}, {"TLS handshake", "a"}, {"PEM file", "a"},
      {"GID", "a"}, {"UTF-8 string", "a"}, {"CA", "a"}, {"DNS name", "a"},
      // Numbers said as words.
      {"8 MiB cap", "an"}, {"80-column line", "an"}, {"800", "an"}, {"11", "an"}, {"18-byte", "an"},
      {"11000", "an"}, {"1 MiB cap", "a"}, {"100", "a"}, {"110", "a"}, {"1", "a"}, {"64", "a"},
      // Quotes and brackets before the word are looked through.
      {"\"unspecified\" value", "an"}, {"`index` field", "an"}, {"(optional) field", "an"},
      {"'user' field", "a"},
      // Nothing to go by.
      {"", "a"}, {"!!", "a"},
  };
  for (const auto& c : cases) {
    INFO(c.phrase);
    CHECK(IndefiniteArticle(c.phrase) == c.want);
  }
}

TEST_CASE("WithArticle") {
  CHECK(WithArticle("unspecified address") == "an unspecified address");
  CHECK(WithArticle("loopback address") == "a loopback address");
  CHECK(WithArticle("") == "a ");
}

}  // namespace
