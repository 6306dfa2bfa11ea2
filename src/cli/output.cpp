#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "cli/command.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"

namespace sigil::cli {
namespace {

std::string scalar(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ",") + scalar(e);
    return out.empty() ? "-" : out;
  }
  return v.dump();
}

}  // namespace

void print(const GlobalOptions& g, const nlohmann::json& j, const std::string& human) {
  if (g.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << human;
  }
}

std::string describe(const nlohmann::json& obj, const std::vector<std::string>& fields) {
  std::size_t width = 0;
  for (const auto& f : fields) width = std::max(width, f.size());
  std::ostringstream out;
  for (const auto& f : fields) {
    if (!obj.contains(f)) continue;
    const auto& v = obj.at(f);
    if (v.is_string() && v.get<std::string>().find('\n') != std::string::npos) {
      out << f << ":\n" << v.get<std::string>();
    } else {
      out << f << std::string(width - f.size() + 2, ' ') << scalar(v) << "\n";
    }
  }
  return out.str();
}

std::string table(const nlohmann::json& rows, const std::vector<std::string>& fields) {
  std::vector<std::size_t> width;
  for (const auto& f : fields) width.push_back(f.size());
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      line.push_back(r.contains(fields[i]) ? scalar(r.at(fields[i])) : "-");
      width[i] = std::max(width[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  std::ostringstream out;
  auto emit = [&](const std::vector<std::string>& line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      out << line[i];
      if (i + 1 < line.size()) out << std::string(width[i] - line[i].size() + 2, ' ');
    }
    out << "\n";
  };
  std::vector<std::string> header;
  for (const auto& f : fields) {
    std::string h = f;
    std::transform(h.begin(), h.end(), h.begin(), ::toupper);
    header.push_back(h);
  }
  emit(header);
  for (const auto& line : cells) emit(line);
  if (cells.empty()) out << "(none)\n";
  return out.str();
}

std::string read_input(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  return files::read(path);
}

}  // namespace sigil::cli
