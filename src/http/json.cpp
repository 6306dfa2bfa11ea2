#include "sigil/http/json.hpp"

#include <string>

#include "sigil/common/error.hpp"

namespace sigil::http {
namespace {

// Linear scan of the bracket nesting that skips string contents (with their escapes). It never
// allocates, so a hostile "[[[[..." is refused in O(n) before the recursive-descent-free but
// still tree-building nlohmann parser sees it. It does not validate: the parser does that next.
void check_depth(std::string_view body, unsigned max_depth) {
  unsigned depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          throw Error(Errc::json_too_deep,
                      "JSON nesting exceeds " + std::to_string(max_depth) + " levels at byte " + std::to_string(i),
                      true);
        }
        break;
      case ']':
      case '}':
        // Unbalanced closers are malformed; leave the message to the parser.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
}

}  // namespace

nlohmann::json parse_json_bounded(std::string_view body, unsigned max_depth) {
  check_depth(body, max_depth);
  try {
    return nlohmann::json::parse(body.begin(), body.end());
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's own message quotes the input ("last read: ..."); name the offset only.
    throw Error(Errc::invalid_json, "Malformed JSON at byte " + std::to_string(e.byte), true);
  } catch (const nlohmann::json::exception&) {
    // out_of_range: a number beyond a double (1e400); found by tests/fuzz (json_bounded-1).
    throw Error(Errc::invalid_json, "Malformed JSON: a number is out of range", true);
  }
}

std::string string_field(const nlohmann::json& o, const char* name, bool required) {
  const auto it = o.find(name);
  if (it == o.end() || it->is_null()) {
    if (required) throw Error(Errc::invalid_argument, std::string(name) + " is required", true);
    return {};
  }
  if (!it->is_string()) throw Error(Errc::invalid_argument, std::string(name) + " must be a string", true);
  return it->get<std::string>();
}

}  // namespace sigil::http
