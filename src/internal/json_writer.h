// A small streaming JSON writer that appends to a std::string.
//
//   std::string out;
//   JsonWriter w(&out);
//   w.BeginObject(); w.Key("code"); w.String("E11.9"); w.EndObject();  // {"code":"E11.9"}
#ifndef CHARTCODER_SRC_INTERNAL_JSON_WRITER_H_
#define CHARTCODER_SRC_INTERNAL_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chartcoder::internal {

// Writes compact JSON. The caller nests Begin/End calls correctly; strings are
// escaped (control characters as \u00XX; invalid UTF-8 bytes become U+FFFD so
// the output is always valid JSON). One writer per thread.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);
  void String(std::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  // Shortest text that reads back to the same double; non-finite as null.
  void Double(double value);
  // `value` rounded to `decimals` places, printed without trailing zeros.
  void Fixed(double value, int decimals);
  void Bool(bool value);
  void Null();
  // A pre-rendered JSON value, inserted as is.
  void Raw(std::string_view json);
  // Pre-rendered members of the open object (`"a":1,"b":true`), inserted as
  // is (after a ',' when members precede them).
  void Members(std::string_view json) { Raw(json); }

  // Shorthands for a key and its value. A short plain key and value go out
  // together, with the separator, in one append.
  void Field(std::string_view key, std::string_view value);
  void Field(std::string_view key, const char* value) { Field(key, std::string_view(value)); }
  void Field(std::string_view key, int64_t value);
  void Field(std::string_view key, int value) { Field(key, int64_t{value}); }
  void Field(std::string_view key, bool value);
  // "key":[first,second] (a span, for instance).
  void PairField(std::string_view key, uint64_t first, uint64_t second);
  // [first,second] as a value.
  void Pair(uint64_t first, uint64_t second);

 private:
  class Piece;

  void Open(char c) {
    Separate();
    out_->push_back(c);
    first_.push_back(1);
  }
  void Close(char c) {
    out_->push_back(c);
    if (!first_.empty()) first_.pop_back();
  }
  // Whether the next element needs a ',' before it (and marks it written).
  bool Comma() {
    if (after_key_) {
      after_key_ = false;
      return false;
    }
    if (first_.empty()) return false;
    const bool comma = first_.back() == 0;
    first_.back() = 0;
    return comma;
  }
  void Separate() {
    if (Comma()) out_->push_back(',');
  }
  void Escaped(std::string_view s);
  // Keys and values of at most kShortPlain bytes of printable ASCII needing
  // no escape go out through a Piece on the stack, in one append with their
  // separator; anything else through Escaped().
  static constexpr size_t kShortPlain = 120;
  // Appends the piece, after a ',' if the element needs one.
  void Emit(Piece& piece);

  std::string* out_;
  std::vector<uint8_t> first_;  // per open container: no element written yet (1)
  bool after_key_ = false;
};

// `s` as a quoted, escaped JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_JSON_WRITER_H_
