#include "src/internal/search_words.h"

#include <array>


namespace chartcoder::internal {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c >= 0x80;
}

}  // namespace

bool IsSearchStopWord(std::string_view word) {
  static constexpr std::array<std::string_view, 14> kStop = {
      "a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "nos"};
  for (std::string_view s : kStop) {
    if (word == s) return true;
  }
  return false;
}

std::string StemWord(std::string_view w) {
  std::string s(w);
  if (s.size() <= 3) return s;
  if (s.ends_with("ies") && s.size() > 4) {
    s.resize(s.size() - 3);
    s.push_back('y');
    return s;
  }
  if (s.ends_with("sses")) {
    s.resize(s.size() - 2);
    return s;
  }
  if (s.ends_with("ss") || s.ends_with("us") || s.ends_with("is")) return s;
  if (s.back() == 's') s.pop_back();
  return s;
}

void SearchWords(std::string_view text, std::vector<std::string>* out) {
  size_t i = 0;
  std::string word;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    word.clear();
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) {
      char c = text[i++];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      word.push_back(c);
    }
    if (word.empty() || IsSearchStopWord(word)) continue;
    out->push_back(StemWord(word));
  }
}

}  // namespace chartcoder::internal
