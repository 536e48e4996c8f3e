// chartcoder/coder.h: from mentions to the ICD-10-CM codes a coder would
// assign, each with a score and its evidence.
//
//   auto coder = chartcoder::Coder::Create({.code_set = codes.get()});
//   std::vector<chartcoder::AssignedCode> assigned = (*coder)->Assign(doc, mentions);
//   // assigned[0].code "E11.22", .score 0.93, .evidence[0] the words that said so
//
// What it does, in order:
//  - affirmed mentions become candidates; negated, uncertain (unless options
//    say otherwise), hypothetical and family mentions do not; historical ones
//    become history codes (Z85/Z86/Z87, I25.2 for an old MI) where the coding
//    rules say so, stay current for chronic conditions, and are dropped
//    otherwise (see data/history_codes.tsv);
//  - a non-billable code is made specific with the words around it
//    (laterality, type, acuity, the 7th character) or its unspecified child;
//  - combination codes are formed where ICD-10-CM presumes a link ("with"):
//    diabetes with CKD, neuropathy, ulcer...; hypertension with heart disease
//    and CKD (data/combination_rules.tsv), and "use additional code"
//    instructions add the code they ask for; a manifestation written inside
//    its etiology's words is coded beside it when its own "code first" note
//    names that etiology ("gastroparesis due to type 1 diabetes": E10.43 and
//    K31.84);
//  - a condition the chart ties to a drug ("steroid-induced hyperglycemia",
//    "neutropenia secondary to chemotherapy") adds the drug's adverse-effect
//    code (T36-T50, 7th character A; data/adverse_effects.tsv), never in a
//    sentence that says poisoning, overdose, intoxication or toxicity;
//  - an infectious agent (B95-B97, "as the cause of diseases classified
//    elsewhere") is coded beside a condition of its sentence that it causes:
//    one whose notes ask for the agent (N39.0, L00-L08) or that the words tie
//    it to ("MRSA cellulitis", "UTI due to E. coli": N39.0 and B96.20, not
//    A49.8); never alone ("urine culture grew E. coli"), in the past, or
//    beside a code that names the organism already (A41.51, J15.212);
//  - an unspecified code is dropped when a more specific code of its category
//    is assigned, and Excludes1 conflicts are resolved by score;
//  - a BMI code is added when the chart gives a BMI and assigns a weight
//    diagnosis.
// Every assigned code is billable.
#ifndef CHARTCODER_CODER_H_
#define CHARTCODER_CODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chartcoder/codeset.h"
#include "chartcoder/context.h"
#include "chartcoder/extractor.h"
#include "chartcoder/sections.h"
#include "chartcoder/tokenizer.h"

namespace chartcoder {

// One piece of evidence for an assigned code: a mention of the chart.
struct CodeEvidence {
  uint32_t begin = 0;  // the mention, bytes of the chart text
  uint32_t end = 0;
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // its matched words
  uint32_t sentence_begin = 0;  // the sentence holding it
  uint32_t sentence_end = 0;
  SectionKind section = SectionKind::kNone;
  Assertion assertion;
  std::string_view lexicon_phrase;  // the lexicon entry that matched
  LexiconSource source = LexiconSource::kIndex;
  std::string mention_code;  // the code the mention itself named (before refinement)
  double weight = 0;         // this mention's support, in [0, 1]
};

struct AssignedCode {
  uint32_t code_id = kNoCode;  // CodeSet::CodeAt()
  std::string code;            // "E11.22"
  std::string description;
  double score = 0;            // in [0, 1]; codes are ranked by it
  // How the code was reached: "lexicon", "specified from S72.001 (7th
  // character)", "combination of E11.9 and N18.32", "history of C50.911",
  // "use additional code of E11.22", "BMI 41.6".
  std::string derivation;
  std::vector<CodeEvidence> evidence;  // strongest first, one per distinct span
  // How many distinct spans support the code. Pipeline::Code keeps at most
  // PipelineOptions::max_evidence of them in `evidence`; this still counts all.
  uint32_t evidence_count = 0;
};

struct CoderOptions {
  // The data pack's code set with the coder's curated tables. Required; must
  // outlive the coder.
  const CodeSet* code_set = nullptr;
  // Codes with a score below this are not assigned. Default 0.5.
  double min_score = 0.5;
  // Code uncertain diagnoses ("probable", "suspected") as if established, as
  // inpatient coding does for diagnoses uncertain at discharge (ICD-10-CM
  // guideline Section II.H). Default false (outpatient rules).
  bool code_uncertain_diagnoses = false;
  // Keep symptom codes (chapter 18, R00-R99) even when a definitive
  // diagnosis of the same sentence explains them, abnormal findings read
  // only from results sections (imaging, labs), which are otherwise not
  // coded (Official Guidelines III.B, IV.K), and "infection" alone (B99.9)
  // beside an infection the chart names. Default false.
  bool keep_integral_symptoms = false;
  // A coding profile learned from a coded corpus (`chartcoder pack --train
  // NAME=FILE`): word groups that predicted codes in that corpus add those
  // codes, scored by how often they were right there. It carries the
  // corpus's conventions (CodiEsp codes every symptom and reads "disease" as
  // R69), so use it for text like that corpus. Default empty: none.
  std::string profile;
};

namespace internal {
struct CoderAccess;
}  // namespace internal

// Immutable; safe for concurrent use.
class Coder {
 public:
  // InvalidArgument: no code set, or a malformed curated rule table (row
  // named). NotFound: a curated table is missing from the pack.
  static absl::StatusOr<std::unique_ptr<Coder>> Create(const CoderOptions& options);
  ~Coder();
  Coder(const Coder&) = delete;
  Coder& operator=(const Coder&) = delete;

  // The codes the mentions of `doc` support, best first. `mentions` come from
  // Extractor::Extract with assertions filled.
  std::vector<AssignedCode> Assign(const Document& doc,
                                   const std::vector<Mention>& mentions) const;

 private:
  friend struct internal::CoderAccess;  // Pipeline: one shared lexicon
  struct Rep;
  explicit Coder(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace chartcoder

#endif  // CHARTCODER_CODER_H_
