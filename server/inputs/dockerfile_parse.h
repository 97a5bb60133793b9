// Dockerfile text → instructions, read the way BuildKit's parser reads it
// (moby/buildkit frontend/dockerfile/parser/parser.go): parser directives (`# escape=`` `,
// `# syntax=`) at the top, full-line comments, line continuations with the escape character,
// empty continuation lines skipped, and heredoc bodies (`RUN <<EOF` … `EOF`) consumed so that
// their content is never read as instructions. Pure (text in); stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rootgate::server::dockerfile {

// One instruction, continuation lines joined.
struct Instruction {
  int line = 0;                    // 1-based line where the instruction starts
  int end_line = 0;                // its last line, continuation and heredoc bodies included
  std::string keyword;             // upper case: "FROM", "USER", ...
  std::vector<std::string> flags;  // leading `--name=value` flags, as written
  std::string args;                // the rest, trimmed; quotes and variables not processed
};

// A line that could not be read; the parser skips that instruction and goes on.
struct ParseError {
  int line = 0;
  std::string message;
};

struct Dockerfile {
  char escape = '\\';  // the escape and line-continuation character (`# escape=` directive)
  std::vector<Instruction> instructions;
  std::vector<ParseError> errors;
};

// Reads every instruction of `text`. Never fails as a whole: an unknown instruction, a bad
// directive or an unterminated heredoc becomes an error naming its line, and the rest of the
// text is still read. A text without any instruction gives the error "file with no
// instructions".
Dockerfile ParseDockerfile(std::string_view text);

// True for the instructions BuildKit knows (FROM, RUN, USER, ...), given in upper case.
bool IsKnownInstruction(std::string_view keyword);

}  // namespace rootgate::server::dockerfile
