#include "policy/english.h"

#include <array>
#include <cctype>

namespace rootgate {

namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// The first word, without leading quotes or brackets: letters and digits up to anything else.
std::string_view FirstWord(std::string_view s) {
  while (!s.empty() && std::string_view("\"'`([{").find(s.front()) != std::string_view::npos) {
    s.remove_prefix(1);
  }
  size_t n = 0;
  while (n < s.size() && (std::isalnum(static_cast<unsigned char>(s[n])))) ++n;
  return s.substr(0, n);
}

bool StartsWithLower(std::string_view word, std::string_view prefix) {
  if (word.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(word[i]) != prefix[i]) return false;
  }
  return true;
}

// Said letter by letter: every letter upper case ("UID", "HTTP"), or two capitals first
// ("IPv6", "URLs"), or a single capital ("X").
bool IsAcronym(std::string_view w) {
  if (w.size() == 1) return IsUpper(w[0]);
  return IsUpper(w[0]) && IsUpper(w[1]);
}

// Letters whose names start with a vowel sound: "an F", "an HTTP", "an S3", "an NFS".
bool LetterNameTakesAn(char c) { return std::string_view("AEFHILMNORSX").find(c) != std::string_view::npos; }

// Digits said as words: "an 8", "an 80", "an 11", "an 18", "an 11000"; "a 1", "a 100".
bool NumberTakesAn(std::string_view w) {
  size_t digits = 0;
  while (digits < w.size() && IsDigit(w[digits])) ++digits;
  if (w[0] == '8') return true;
  const bool eleven_or_eighteen = digits >= 2 && w[0] == '1' && (w[1] == '1' || w[1] == '8');
  return eleven_or_eighteen && digits % 3 == 2;  // 11, 18, 11 000, 18 000 000, ...
}

// Words that start with a vowel letter but a consonant sound ("a one-off", "a unique", "a
// user", "a euro"), "un-" words that keep the vowel ("an uninstalled", "an unidentified"), and
// words that start with a silent h ("an hour").
constexpr std::array<std::string_view, 2> kConsonantSoundWords = {"one", "once"};
constexpr std::array<std::string_view, 10> kConsonantSoundPrefixes = {"eu",  "ewe", "uni", "unar", "use",
                                                                      "usa", "usu", "uti", "ubiq", "ure"};
constexpr std::array<std::string_view, 4> kUnPrefixed = {"unid", "unim", "unin", "unis"};
constexpr std::array<std::string_view, 4> kSilentH = {"hour", "honest", "honou", "heir"};

bool WordTakesAn(std::string_view w) {
  for (std::string_view p : kSilentH) {
    if (StartsWithLower(w, p)) return true;
  }
  if (std::string_view("aeiou").find(Lower(w[0])) == std::string_view::npos) return false;
  for (std::string_view p : kUnPrefixed) {
    if (StartsWithLower(w, p)) return true;
  }
  for (std::string_view word : kConsonantSoundWords) {
    if (w.size() == word.size() && StartsWithLower(w, word)) return false;
  }
  for (std::string_view p : kConsonantSoundPrefixes) {
    if (StartsWithLower(w, p)) return false;
  }
  return true;
}

}  // namespace

std::string_view IndefiniteArticle(std::string_view phrase) {
  const std::string_view w = FirstWord(phrase);
  if (w.empty()) return "a";
  if (IsDigit(w[0])) return NumberTakesAn(w) ? "an" : "a";
  if (IsAcronym(w)) return LetterNameTakesAn(w[0]) ? "an" : "a";
  return WordTakesAn(w) ? "an" : "a";
}

std::string WithArticle(std::string_view phrase) {
  return std::string(IndefiniteArticle(phrase)) + " " + std::string(phrase);
}

}  // namespace rootgate
