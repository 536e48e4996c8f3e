// Word normalization shared by the search index builder and its queries.
//
//   std::vector<std::string> w;
//   SearchWords("Chronic kidney diseases, stage 3", &w);  // {"chronic","kidney","disease","stage","3"}
#ifndef CHARTCODER_SRC_INTERNAL_SEARCH_WORDS_H_
#define CHARTCODER_SRC_INTERNAL_SEARCH_WORDS_H_

#include <string>
#include <string_view>
#include <vector>

namespace chartcoder::internal {

// Appends the search words of `text`: ASCII lower-cased, split at anything but
// letters, digits and non-ASCII bytes, stop words dropped, plural endings
// stripped by StemWord().
void SearchWords(std::string_view text, std::vector<std::string>* out);

// A light English stemmer for lower-case words: "diseases" -> "disease",
// "arteries" -> "artery", "glasses" -> "glass"; words of 3 letters or fewer and
// words ending in "us", "is" or "ss" are kept.
std::string StemWord(std::string_view word);

// True for the few function words search ignores ("of", "the", "and", ...).
bool IsSearchStopWord(std::string_view word);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_SEARCH_WORDS_H_
