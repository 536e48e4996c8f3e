// chartcoder/extractor.h: finds the diagnoses a chart names. Matches the
// clinical lexicon compiled into the data pack (ICD-10-CM titles and
// inclusion terms, the Alphabetic Index, the Table of Neoplasms, curated
// synonyms, unambiguous abbreviations) over the words of each sentence, and
// ICD-10-CM codes written in the text.
//
//   auto extractor = chartcoder::Extractor::Create({.code_set = codes.get()});
//   std::vector<chartcoder::Mention> mentions = (*extractor)->Extract(doc);
//   for (const chartcoder::Mention& m : mentions) {
//     // m.code "I50.9", m.begin/m.end: "congestive heart failure" in doc.text()
//   }
//
// Matching tolerates word order, plurals and inflections (stems), British
// spellings, hyphenation and stop words, and prefers the longest match; it
// runs in time linear in the text (entries are found through their rarest
// word, never by scanning the lexicon).
#ifndef CHARTCODER_EXTRACTOR_H_
#define CHARTCODER_EXTRACTOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"
#include "chartcoder/context.h"
#include "chartcoder/sections.h"
#include "chartcoder/tokenizer.h"

namespace chartcoder {

// Where the phrase of a mention comes from.
enum class LexiconSource : uint8_t {
  kCurated = 0,        // chartcoder's synonym table
  kIndex = 1,          // an Alphabetic Index path
  kDescription = 2,    // a tabular title
  kInclusionTerm = 3,  // a tabular inclusion term
  kNeoplasmTable = 4,  // a Table of Neoplasms site and column
  kIndexSee = 5,       // an index term through its "see" reference
  kCodeInText = 6,     // an ICD-10-CM code written in the chart ("E11.22")
  kLearned = 7,        // a word group a coding profile learned to predict the code
};
// "curated", "index", "description", "inclusion_term", "neoplasm_table",
// "index_see", "code_in_text", "learned".
std::string_view LexiconSourceName(LexiconSource source);

inline constexpr uint32_t kNoCode = 0xFFFFFFFFu;

// One phrase of the chart that names a code.
struct Mention {
  uint32_t begin = 0;  // bytes of doc.text(), first to last matched word
  uint32_t end = 0;
  // The matched words (the evidence), in text order; abbreviations and
  // synonyms count as the words they stand for.
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  uint32_t sentence = 0;  // index into Document::sentences()
  SectionKind section = SectionKind::kNone;
  uint32_t code_id = kNoCode;  // CodeSet::CodeAt(); may be a non-billable header
  std::string code;            // dotted, as in the code set: "I50.9"
  // A manifestation code the index pairs with it ("E85.4 [I43]"), or kNoCode.
  uint32_t manifestation_code_id = kNoCode;
  LexiconSource source = LexiconSource::kIndex;
  std::string_view lexicon_phrase;  // the entry matched: "Failure, failed > heart > congestive"
  // The index printed an incomplete code ("S72.0-"): more characters needed.
  bool incomplete_code = false;
  bool expanded = false;        // matched through an abbreviation or synonym
  int words = 0;                // the entry's required words (all present)
  int optional_words = 0;       // of its non-essential modifiers, how many are present
  int gaps = 0;                 // other words between the first and last matched word
  // Inside a longer mention of the same words ("heart failure" within
  // "acute on chronic diastolic heart failure"): kept for "use additional
  // code" instructions, not coded on its own.
  bool subsumed = false;
  Assertion assertion;  // filled by Extract when a ContextAnalyzer is given
  // Filled by Pipeline::Code: the mention is evidence of an assigned code.
  bool coded = false;
};

struct ExtractorOptions {
  // The data pack's code set, lexicon included. Required; must outlive the
  // extractor.
  const CodeSet* code_set = nullptr;
  // When set, Extract fills Mention::assertion for every mention that is not
  // subsumed. Must outlive the extractor. Default none.
  const ContextAnalyzer* context = nullptr;
  // Keep subsumed mentions in the output. Default true (the coder uses them).
  bool keep_subsumed = true;
};

namespace internal {
struct ExtractorAccess;
}  // namespace internal

// Immutable; safe for concurrent use.
class Extractor {
 public:
  // InvalidArgument: no code set. DataLoss: the pack's lexicon is missing or
  // corrupt.
  static absl::StatusOr<std::unique_ptr<Extractor>> Create(const ExtractorOptions& options);
  ~Extractor();
  Extractor(const Extractor&) = delete;
  Extractor& operator=(const Extractor&) = delete;

  // Every mention in the document, in text order.
  std::vector<Mention> Extract(const Document& doc) const;

  // Lexicon size, for diagnostics: entries and words.
  size_t lexicon_entries() const;
  size_t lexicon_words() const;

 private:
  friend struct internal::ExtractorAccess;  // Pipeline: one shared lexicon
  struct Rep;
  explicit Extractor(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_EXTRACTOR_H_
