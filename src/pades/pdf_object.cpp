#include "pades/pdf_object.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

#include "sigil/common/error.hpp"

namespace sigil::pades::pdf {
namespace {

constexpr int kMaxDepth = 64;                     // nesting of arrays/dicts
constexpr std::size_t kMaxToken = 1 << 16;        // one name/number/keyword
constexpr std::size_t kMaxString = 64u << 20;     // one string

[[noreturn]] void bad(const std::string& what, std::uint64_t pos) {
  throw Error(Errc::invalid_document, "PDF syntax: " + what + " at offset " + std::to_string(pos));
}

int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const Object kNull;

}  // namespace

bool is_whitespace(int c) { return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32; }
bool is_delimiter(int c) {
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' ||
         c == '/' || c == '%';
}

Object Object::boolean(bool b) {
  Object o;
  o.kind_ = Kind::boolean;
  o.boolean_ = b;
  return o;
}
Object Object::integer(std::int64_t i) {
  Object o;
  o.kind_ = Kind::integer;
  o.integer_ = i;
  return o;
}
Object Object::real_text(std::string text) {
  Object o;
  o.kind_ = Kind::real;
  o.text_ = std::move(text);
  return o;
}
Object Object::string(std::string bytes, bool hex) {
  Object o;
  o.kind_ = Kind::string;
  o.text_ = std::move(bytes);
  o.hex_ = hex;
  return o;
}
Object Object::name(std::string n) {
  Object o;
  o.kind_ = Kind::name;
  o.text_ = std::move(n);
  return o;
}
Object Object::array(std::vector<Object> items) {
  Object o;
  o.kind_ = Kind::array;
  o.items_ = std::move(items);
  return o;
}
Object Object::dict() {
  Object o;
  o.kind_ = Kind::dict;
  return o;
}
Object Object::ref(Ref r) {
  Object o;
  o.kind_ = Kind::ref;
  o.ref_ = r;
  return o;
}

double Object::as_number() const {
  if (kind_ == Kind::integer) return static_cast<double>(integer_);
  if (kind_ == Kind::real) {
    try {
      return std::stod(text_);
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

const Object* Object::find(std::string_view key) const {
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return &items_[i];
  return nullptr;
}
Object* Object::find(std::string_view key) {
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return &items_[i];
  return nullptr;
}
const Object& Object::get(std::string_view key) const {
  const Object* o = find(key);
  return o != nullptr ? *o : kNull;
}
void Object::set(std::string_view key, Object value) {
  if (Object* o = find(key)) {
    *o = std::move(value);
    return;
  }
  keys_.emplace_back(key);
  items_.push_back(std::move(value));
}
void Object::erase(std::string_view key) {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(i));
      items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------- parser

void Parser::skip_ws() {
  for (;;) {
    const int c = peek();
    if (c < 0) return;
    if (is_whitespace(c)) {
      ++pos_;
    } else if (c == '%') {
      while (peek() >= 0 && peek() != '\n' && peek() != '\r') ++pos_;
    } else {
      return;
    }
  }
}

std::string Parser::read_regular() {
  std::string t;
  for (int c = peek(); c >= 0 && !is_whitespace(c) && !is_delimiter(c); c = peek()) {
    if (t.size() >= kMaxToken) bad("token too long", pos_);
    t.push_back(static_cast<char>(c));
    ++pos_;
  }
  return t;
}

bool Parser::accept_keyword(std::string_view kw) {
  skip_ws();
  const auto save = pos_;
  const std::string t = read_regular();
  if (t == kw) return true;
  pos_ = save;
  return false;
}

std::int64_t Parser::parse_int() {
  skip_ws();
  const auto at = pos_;
  const std::string t = read_regular();
  std::int64_t v = 0;
  const char* b = t.data();
  const char* e = t.data() + t.size();
  if (b != e && *b == '+') ++b;
  const auto [p, ec] = std::from_chars(b, e, v);
  if (t.empty() || ec != std::errc() || p != e) bad("integer expected", at);
  return v;
}

Ref Parser::parse_obj_header() {
  const auto num = parse_int();
  const auto gen = parse_int();
  if (num < 0 || num > std::numeric_limits<std::uint32_t>::max() || gen < 0 || gen > 65535)
    bad("bad object number", pos_);
  if (!accept_keyword("obj")) bad("'obj' expected", pos_);
  return Ref{static_cast<std::uint32_t>(num), static_cast<std::uint32_t>(gen)};
}

bool Parser::at_stream_keyword() {
  const auto save = pos_;
  if (!accept_keyword("stream")) {
    pos_ = save;
    return false;
  }
  // EOL after "stream": CRLF or LF (a lone CR is tolerated).
  if (peek() == '\r') ++pos_;
  if (peek() == '\n') ++pos_;
  return true;
}

Object Parser::parse_string_literal() {
  const auto start = pos_;
  ++pos_;  // (
  std::string s;
  int nest = 1;
  for (;;) {
    int c = peek();
    if (c < 0) bad("unterminated string", start);
    ++pos_;
    if (s.size() >= kMaxString) bad("string too long", start);
    if (c == '\\') {
      c = peek();
      if (c < 0) bad("unterminated string", start);
      ++pos_;
      switch (c) {
        case 'n': s.push_back('\n'); break;
        case 'r': s.push_back('\r'); break;
        case 't': s.push_back('\t'); break;
        case 'b': s.push_back('\b'); break;
        case 'f': s.push_back('\f'); break;
        case '\r':
          if (peek() == '\n') ++pos_;
          break;
        case '\n': break;
        default:
          if (c >= '0' && c <= '7') {
            int v = c - '0';
            for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i) v = v * 8 + (src_.at(pos_++) - '0');
            s.push_back(static_cast<char>(v & 0xff));
          } else {
            s.push_back(static_cast<char>(c));
          }
      }
      continue;
    }
    if (c == '(') ++nest;
    if (c == ')' && --nest == 0) break;
    s.push_back(static_cast<char>(c));
  }
  return Object::string(std::move(s), false);
}

Object Parser::parse_hex_string() {
  const auto start = pos_;
  ++pos_;  // <
  std::string s;
  int hi = -1;
  for (;;) {
    const int c = peek();
    if (c < 0) bad("unterminated hex string", start);
    ++pos_;
    if (c == '>') break;
    if (is_whitespace(c)) continue;
    const int v = hex_value(c);
    if (v < 0) bad("bad hex digit", pos_ - 1);
    if (hi < 0) {
      hi = v;
    } else {
      s.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
      if (s.size() >= kMaxString) bad("string too long", start);
    }
  }
  if (hi >= 0) s.push_back(static_cast<char>(hi * 16));
  return Object::string(std::move(s), true);
}

Object Parser::parse_name() {
  ++pos_;  // /
  const std::string raw = read_regular();
  std::string n;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '#' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 && hex_value(raw[i + 2]) >= 0) {
      n.push_back(static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2])));
      i += 2;
    } else {
      n.push_back(raw[i]);
    }
  }
  return Object::name(std::move(n));
}

Object Parser::parse_number_or_ref(int depth) {
  (void)depth;
  const auto at = pos_;
  const std::string t = read_regular();
  bool is_int = !t.empty();
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (!((c >= '0' && c <= '9') || ((c == '-' || c == '+') && i == 0))) is_int = false;
  }
  if (!is_int) {
    bool ok = !t.empty();
    for (const char c : t)
      if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')) ok = false;
    if (!ok) bad("unexpected token '" + t.substr(0, 32) + "'", at);
    return Object::real_text(t);
  }
  std::int64_t v = 0;
  const char* b = t.data() + (t[0] == '+' ? 1 : 0);
  const auto [p, ec] = std::from_chars(b, t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) {
    if (ec == std::errc::result_out_of_range) return Object::real_text(t);
    bad("bad number", at);
  }
  // "N G R"?
  if (v >= 0 && t[0] != '+' && t[0] != '-') {
    const auto save = pos_;
    skip_ws();
    const int c = peek();
    if (c >= '0' && c <= '9') {
      const std::string g = read_regular();
      std::int64_t gen = 0;
      const auto [p2, ec2] = std::from_chars(g.data(), g.data() + g.size(), gen);
      if (ec2 == std::errc() && p2 == g.data() + g.size()) {
        skip_ws();
        if (peek() == 'R') {
          ++pos_;
          const int n = peek();
          if (n < 0 || is_whitespace(n) || is_delimiter(n)) {
            if (v > std::numeric_limits<std::uint32_t>::max() || gen > 65535) bad("bad reference", at);
            return Object::ref(Ref{static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(gen)});
          }
        }
      }
    }
    pos_ = save;
  }
  return Object::integer(v);
}

Object Parser::parse_object(int depth) {
  if (depth > kMaxDepth) bad("nesting too deep", pos_);
  skip_ws();
  const int c = peek();
  if (c < 0) bad("unexpected end of data", pos_);
  if (c == '(') return parse_string_literal();
  if (c == '/') return parse_name();
  if (c == '[') {
    ++pos_;
    Object a = Object::array();
    for (;;) {
      skip_ws();
      if (peek() < 0) bad("unterminated array", pos_);
      if (peek() == ']') {
        ++pos_;
        return a;
      }
      a.items().push_back(parse_object(depth + 1));
    }
  }
  if (c == '<') {
    if (src_.at(pos_ + 1) != '<') return parse_hex_string();
    pos_ += 2;
    Object d = Object::dict();
    for (;;) {
      skip_ws();
      const int k = peek();
      if (k < 0) bad("unterminated dictionary", pos_);
      if (k == '>') {
        if (src_.at(pos_ + 1) != '>') bad("'>>' expected", pos_);
        pos_ += 2;
        return d;
      }
      if (k != '/') bad("name expected as dictionary key", pos_);
      Object key = parse_name();
      Object value = parse_object(depth + 1);
      if (!value.is_null()) d.set(key.text(), std::move(value));
    }
  }
  if (c == ']' || c == ')' || c == '>' || c == '{' || c == '}') bad("unexpected delimiter", pos_);
  if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') return parse_number_or_ref(depth);
  const auto at = pos_;
  const std::string kw = read_regular();
  if (kw == "true") return Object::boolean(true);
  if (kw == "false") return Object::boolean(false);
  if (kw == "null") return Object{};
  bad("unexpected keyword '" + kw.substr(0, 32) + "'", at);
}

// ------------------------------------------------------------------------------------ serializer

std::string escape_literal(std::string_view bytes) {
  std::string s = "(";
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '(' || c == ')' || c == '\\') {
      s.push_back('\\');
      s.push_back(ch);
    } else if (c == '\r') {
      s += "\\r";
    } else if (c == '\n') {
      s += "\\n";
    } else {
      s.push_back(ch);
    }
  }
  s.push_back(')');
  return s;
}

namespace {
void write_name(std::string& out, std::string_view n) {
  out.push_back('/');
  static const char* hex = "0123456789ABCDEF";
  for (const char ch : n) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e || c == '#' || is_delimiter(c)) {
      out.push_back('#');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
}
}  // namespace

void write_object(std::string& out, const Object& o) {
  switch (o.kind()) {
    case Object::Kind::null: out += "null"; break;
    case Object::Kind::boolean: out += o.as_bool() ? "true" : "false"; break;
    case Object::Kind::integer: out += std::to_string(o.as_int()); break;
    case Object::Kind::real: out += o.text(); break;
    case Object::Kind::string: {
      bool printable = !o.hex();
      for (const char ch : o.text()) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 && c != '\r' && c != '\n' && c != '\t') printable = false;
      }
      if (printable) {
        out += escape_literal(o.text());
      } else {
        static const char* hex = "0123456789ABCDEF";
        out.push_back('<');
        for (const char ch : o.text()) {
          const auto c = static_cast<unsigned char>(ch);
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        }
        out.push_back('>');
      }
      break;
    }
    case Object::Kind::name: write_name(out, o.text()); break;
    case Object::Kind::array:
      out.push_back('[');
      for (std::size_t i = 0; i < o.items().size(); ++i) {
        if (i != 0) out.push_back(' ');
        write_object(out, o.items()[i]);
      }
      out.push_back(']');
      break;
    case Object::Kind::dict:
      out += "<<";
      for (std::size_t i = 0; i < o.keys().size(); ++i) {
        write_name(out, o.keys()[i]);
        out.push_back(' ');
        write_object(out, o.items()[i]);
      }
      out += ">>";
      break;
    case Object::Kind::ref:
      out += std::to_string(o.as_ref().num) + " " + std::to_string(o.as_ref().gen) + " R";
      break;
  }
}

std::string to_pdf(const Object& o) {
  std::string s;
  write_object(s, o);
  return s;
}

std::string pdf_date(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "D:%04d%02d%02d%02d%02d%02d+00'00'", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace sigil::pades::pdf
