// Choosing "a" or "an" for a word that is only known at run time, so that messages built from
// parts read as English ("an unspecified address", "a loopback address", "an HTTP registry").
// English picks the article by the sound that follows, not the letter; this follows the usual
// letter rules plus the exceptions that messages meet: acronyms said letter by letter ("an
// HTTP", "a UID"), vowels said as consonants ("a unique", "a one-off", "a user"), a silent h
// ("an hour") and numbers ("an 8", "an 11", "a 1"). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace rootgate {

// "a" or "an" for the phrase that follows (its first word decides); "a" for an empty phrase.
std::string_view IndefiniteArticle(std::string_view phrase);

// The phrase with its article in front: WithArticle("unspecified address") is
// "an unspecified address".
std::string WithArticle(std::string_view phrase);

}  // namespace rootgate
