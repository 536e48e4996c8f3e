// Learns a coding profile from a coded corpus: which word n-grams of a
// document predict which codes of its gold list, compiled into the data pack
// as the table "profile/<name>" (columns gram, code, documents, precision).
// The coder uses a profile only when asked (CoderOptions::profile), to follow
// the conventions of the corpus it was learned from.
//
//   DelimitedTable t;
//   CC_RETURN_IF_ERROR(LearnProfile("train.jsonl", options, &t));
#ifndef CHARTCODER_SRC_INTERNAL_PROFILE_BUILDER_H_
#define CHARTCODER_SRC_INTERNAL_PROFILE_BUILDER_H_

#include <string>

#include "absl/status/status.h"
#include "src/internal/csv.h"

namespace chartcoder::internal {

struct ProfileOptions {
  int max_gram = 3;             // n-grams of 1..max_gram content words
  int min_documents = 3;        // a gram and code seen together in at least this many documents
  double min_precision = 0.35;  // of the documents with the gram, the share coded with the code
  int max_codes_per_gram = 5;
};

// Reads JSON Lines {"id", "text", "codes": [...]} from `path` and fills
// `table` (header row first). InvalidArgument names a bad line (file:line);
// NotFound: no file.
absl::Status LearnProfile(const std::string& path, const ProfileOptions& options,
                          DelimitedTable* table);

// The grams of a text as the coder sees them: runs of 1..max_gram
// consecutive content words (lexicon stems), joined by spaces.
void TextGrams(std::string_view text, int max_gram, std::vector<std::string>* out);

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PROFILE_BUILDER_H_
