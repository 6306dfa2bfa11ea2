// A small valid one-page PDF with a correct xref table, for tests that sign PDFs.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace sigil::test {

inline std::string minimal_pdf() {
  std::string body =
      "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 "
      ">>\nendobj\n"
      "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>\nendobj\n"
      "4 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n";
  std::vector<std::size_t> offsets;
  for (int i = 1; i <= 4; ++i) offsets.push_back(body.find(std::to_string(i) + " 0 obj"));
  const std::size_t xref = body.size();
  char line[32];
  body += "xref\n0 5\n0000000000 65535 f \n";
  for (auto o : offsets) {
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", o);
    body += line;
  }
  body += "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return body;
}

}  // namespace sigil::test
