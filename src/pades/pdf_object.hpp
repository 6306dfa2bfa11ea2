// A minimal PDF object model (ISO 32000-1 §7.3) with a bounded parser and a serializer: just what
// the incremental writer needs to read the trailer, the xref, the catalog, the AcroForm, fields and
// pages, and to write changed copies of them. Internal to src/pades.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sigil::pades::pdf {

struct Ref {
  std::uint32_t num = 0;
  std::uint32_t gen = 0;
  bool operator==(const Ref&) const = default;
};

class Object {
 public:
  enum class Kind { null, boolean, integer, real, string, name, array, dict, ref };

  Object() = default;
  static Object boolean(bool b);
  static Object integer(std::int64_t i);
  static Object real_text(std::string text);  // keeps the source text for a faithful rewrite
  static Object string(std::string bytes, bool hex = false);
  static Object name(std::string n);  // without the slash, #xx escapes decoded
  static Object array(std::vector<Object> items = {});
  static Object dict();
  static Object ref(Ref r);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_int() const { return kind_ == Kind::integer; }
  bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::real; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_name() const { return kind_ == Kind::name; }
  bool is_name(std::string_view n) const { return kind_ == Kind::name && text_ == n; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_dict() const { return kind_ == Kind::dict; }
  bool is_ref() const { return kind_ == Kind::ref; }

  bool as_bool() const { return boolean_; }
  std::int64_t as_int() const { return integer_; }
  double as_number() const;
  const std::string& text() const { return text_; }  // string bytes, name, real text
  Ref as_ref() const { return ref_; }
  bool hex() const { return hex_; }

  // Arrays.
  std::vector<Object>& items() { return items_; }
  const std::vector<Object>& items() const { return items_; }
  // Dictionaries: keys_[i] ↔ items_[i], order kept.
  const std::vector<std::string>& keys() const { return keys_; }
  const Object* find(std::string_view key) const;
  Object* find(std::string_view key);
  const Object& get(std::string_view key) const;  // null object when absent
  void set(std::string_view key, Object value);
  void erase(std::string_view key);

 private:
  Kind kind_ = Kind::null;
  bool boolean_ = false;
  bool hex_ = false;
  std::int64_t integer_ = 0;
  Ref ref_;
  std::string text_;
  std::vector<std::string> keys_;
  std::vector<Object> items_;
};

// Random access to bytes: a file or a memory buffer. at() returns -1 past the end.
class Source {
 public:
  virtual ~Source() = default;
  virtual int at(std::uint64_t pos) = 0;
  virtual std::uint64_t size() const = 0;
};

class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  int at(std::uint64_t pos) override {
    return pos < data_.size() ? static_cast<unsigned char>(data_[pos]) : -1;
  }
  std::uint64_t size() const override { return data_.size(); }

 private:
  std::string_view data_;
};

// Tokenizer + recursive-descent parser with a depth bound. Every failure throws
// Error(invalid_document): malformed input never crashes and never loops.
class Parser {
 public:
  Parser(Source& src, std::uint64_t pos) : src_(src), pos_(pos) {}
  std::uint64_t pos() const { return pos_; }
  void seek(std::uint64_t pos) { pos_ = pos; }

  void skip_ws();
  // The next object (an integer followed by "G R" becomes a reference).
  Object parse_object(int depth = 0);
  // "N G obj"; returns the reference. Throws if absent.
  Ref parse_obj_header();
  // After an object's value: true when "stream" follows; pos() is then at the first data byte.
  bool at_stream_keyword();
  // True (and consumed) when the keyword is next.
  bool accept_keyword(std::string_view kw);
  std::int64_t parse_int();

 private:
  int peek() { return src_.at(pos_); }
  std::string read_regular();
  Object parse_string_literal();
  Object parse_hex_string();
  Object parse_name();
  Object parse_number_or_ref(int depth);

  Source& src_;
  std::uint64_t pos_;
};

bool is_whitespace(int c);
bool is_delimiter(int c);

// Serialization (PDF syntax, no trailing whitespace). Strings with non-printable bytes are written
// as hex strings.
void write_object(std::string& out, const Object& o);
std::string to_pdf(const Object& o);
std::string escape_literal(std::string_view bytes);  // "(...)" with escapes
std::string pdf_date(std::int64_t unix_seconds);     // "D:YYYYMMDDHHmmSS+00'00'"

}  // namespace sigil::pades::pdf
