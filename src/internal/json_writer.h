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

  // Shorthands for a key and its value.
  void Field(std::string_view key, std::string_view value) { Key(key); String(value); }
  void Field(std::string_view key, const char* value) { Key(key); String(value); }
  void Field(std::string_view key, int64_t value) { Key(key); Int(value); }
  void Field(std::string_view key, int value) { Key(key); Int(value); }
  void Field(std::string_view key, bool value) { Key(key); Bool(value); }

 private:
  void Open(char c);
  void Close(char c);
  // Whether the next element needs a ',' before it (and marks it written).
  bool Comma();
  void Separate();
  void Escaped(std::string_view s);
  // Writes `s` (and a ':' for a key) at once if it is at most kShortPlain
  // bytes of printable ASCII needing no escape; false (nothing written)
  // otherwise.
  static constexpr size_t kShortPlain = 60;
  bool ShortPlain(std::string_view s, bool key);

  std::string* out_;
  std::vector<uint8_t> first_;  // per open container: no element written yet (1)
  bool after_key_ = false;
};

// `s` as a quoted, escaped JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_JSON_WRITER_H_
