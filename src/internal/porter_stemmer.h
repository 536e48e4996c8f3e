// The Porter (1980) suffix-stripping stemmer for lower-case English words.
//
//   PorterStem("hypertensive") == PorterStem("hypertension")  // "hypertens"
#ifndef CHARTCODER_SRC_INTERNAL_PORTER_STEMMER_H_
#define CHARTCODER_SRC_INTERNAL_PORTER_STEMMER_H_

#include <string>
#include <string_view>

namespace chartcoder::internal {

// Stems `word` (ASCII lower case letters; other input is returned as is).
// Words of two letters or fewer are not changed.
std::string PorterStem(std::string_view word);
// The same, reusing `word`'s storage.
std::string PorterStemString(std::string word);
// The same for a word known to be ASCII lower-case letters only (not checked
// again).
std::string PorterStemLetters(std::string word);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PORTER_STEMMER_H_
