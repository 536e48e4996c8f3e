// What the coder reads of every code's title when it walks a category's
// descendants (Refine, Specify, SeventhCharacter), computed once for the
// whole code table when the coder is created instead of once per descendant
// per mention.
//
//   std::vector<CodeTitleFacts> facts = ComputeCodeTitleFacts(code_set, lexicon);
//   if (facts[id].has(kTitleInitialEncounter)) ...
//   if (!facts[d].MayHaveAll(WordSignature(base_words))) ...  // skip d
#ifndef CHARTCODER_SRC_INTERNAL_CODE_TITLES_H_
#define CHARTCODER_SRC_INTERNAL_CODE_TITLES_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "chartcoder/codeset.h"

namespace chartcoder::internal {

class Lexicon;

// Flags of CodeTitleFacts: each one a fixed test of the title (and the code),
// a substring test exactly as the coder wrote it when it read the titles
// (case-sensitive). A new phrase test of the coder's over descendants'
// titles belongs here.
enum CodeTitleFlag : uint32_t {
  kTitleBillable = 1u << 0,              // Code::billable()
  kTitleSeventhExpansion = 1u << 1,      // Code::is_seventh_character_expansion()
  kTitleUnspecified = 1u << 2,           // "unspecified" or "Unspecified"
  kTitleWithout = 1u << 3,               // "without"
  kTitleWithoutSpace = 1u << 4,          // "without "
  kTitleUncomplicated = 1u << 5,         // "uncomplicated", "without complication",
                                         // "not having achieved remission",
                                         // "Asymptomatic ..." (at the start)
  kTitleResidual = 1u << 6,              // IsResidualTitle(): "Other ...", "... other ..."
  kTitleInitialEncounter = 1u << 7,      // "initial encounter"
  kTitleLaterEncounter = 1u << 8,        // "subsequent encounter" or "sequela"
  kTitleClosedFracture = 1u << 9,        // "closed fracture"
  kTitleRoutineHealing = 1u << 10,       // "routine healing"
  kTitleUnspecifiedSeverity = 1u << 11,  // "unspecified severity"
  kTitleAnd = 1u << 12,                  // " and "
  kTitleCommaNot = 1u << 13,             // ", not "
  // What kTitleResidual is made of.
  kTitleStartsOther = 1u << 14,          // begins "Other "
  kTitleOther = 1u << 15,                // " other "
  kTitleOtherAndUnspecified = 1u << 16,  // "other and unspecified"
  kTitleNotIntractable = 1u << 17,       // "not intractable"
  kTitleNosInclusion = 1u << 18,         // an inclusion term ending "NOS": the unqualified form
  kTitleUnspecifiedType = 1u << 19,      // "unspecified type": a placeholder, not a word to write
};

// The flags of title `title` that depend on its words alone (all but
// kTitleBillable and kTitleSeventhExpansion).
uint32_t TitlePhraseFlags(std::string_view title);

// Default titles ("unspecified", "without ..."), which Refine may refine.
inline constexpr uint32_t kTitleDefault = kTitleUnspecified | kTitleWithout;

// The bit of lexicon word `id` in a title's word signature.
inline uint64_t WordBit(uint32_t id) {
  return uint64_t{1} << ((uint64_t{id} * 0x9E3779B97F4A7C15ull) >> 58);
}
// The signature of a set of word ids: the OR of their bits.
inline uint64_t WordSignature(absl::Span<const uint32_t> ids) {
  uint64_t s = 0;
  for (uint32_t id : ids) s |= WordBit(id);
  return s;
}

struct CodeTitleFacts {
  uint64_t words = 0;  // WordSignature(Lexicon::TitleWords(code))
  uint32_t flags = 0;  // CodeTitleFlag
  uint32_t depth = 0;  // Code::depth()

  bool has(uint32_t flag) const { return (flags & flag) != 0; }
  // False when the title surely lacks a word of a set with signature
  // `signature` (true says nothing: compare the words).
  bool MayHaveAll(uint64_t signature) const { return (words & signature) == signature; }
};

// The facts of every code of `codes`, indexed by code id. `lexicon` gives
// the title words (Lexicon::TitleWords).
std::vector<CodeTitleFacts> ComputeCodeTitleFacts(const CodeSet& codes, const Lexicon& lexicon);

// The billable descendants of every root of the code tree (a category), in
// id order, each with its title facts, in one array built once: a
// scan of a category's billable codes (Refine) steps over no header and reads
// the facts it tests beside the id.
//
//   BillableCodes billable(codes, facts);
//   for (const BillableCodes::Entry& e : billable.InCategoryOf(id)) {
//     if (!e.facts.MayHaveAll(signature)) continue;
//     ...
//   }
class BillableCodes {
 public:
  struct Entry {
    CodeTitleFacts facts;
    uint32_t id = 0;
  };

  BillableCodes() = default;
  // `facts`: ComputeCodeTitleFacts(codes, ...).
  BillableCodes(const CodeSet& codes, absl::Span<const CodeTitleFacts> facts);

  // The billable descendants of the root above code `id` (of `id` itself
  // when it is a root), `id` among them when it is a billable descendant.
  absl::Span<const Entry> InCategoryOf(uint32_t id) const;

 private:
  std::vector<Entry> entries_;
  // The id of each root, ascending, and where its entries begin (one more at
  // the end: entries_.size()).
  std::vector<uint32_t> roots_;
  std::vector<uint32_t> begins_;
};

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_CODE_TITLES_H_
