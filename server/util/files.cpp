#include "server/util/files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace rootgate::server {

namespace fs = std::filesystem;

Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    if (std::cin.bad()) return Error{"read failed"};
    return ss.str();
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Error{"is a directory"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{std::strerror(errno)};
  std::string text;
  const std::streamoff size = in.seekg(0, std::ios::end) ? std::streamoff(in.tellg()) : -1;
  if (size > 0) {  // a regular file: one read of its size
    text.resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(text.data(), size);
    text.resize(static_cast<size_t>(in.gcount()));
  } else {  // a pipe or special file (no size): read to the end
    in.clear();
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (in.bad()) return Error{"read failed"};
  return text;
}

namespace {

bool IsManifestFile(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json" || IsDockerfileName(p.string());
}

}  // namespace

bool IsDockerfileName(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (name == "Dockerfile" || name == "Containerfile") return true;
  for (std::string_view suffix : {".Dockerfile", ".dockerfile", ".Containerfile"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) return true;
  }
  return false;
}

std::vector<InputPath> ExpandInputs(const std::vector<std::string>& args) {
  std::vector<InputPath> out;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (arg == "-" || !fs::is_directory(arg, ec)) {
      out.push_back({arg, ""});
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      out.push_back({arg, ec.message()});
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        out.push_back({it->path().string(), ec.message()});
        break;
      }
      if (it->is_regular_file(ec) && IsManifestFile(it->path())) found.push_back(it->path().string());
    }
    std::sort(found.begin(), found.end());
    for (std::string& f : found) out.push_back({std::move(f), ""});
  }
  return out;
}

}  // namespace rootgate::server
