#include "src/internal/code_titles.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"

#include "src/internal/lexicon.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {

namespace {

// `p[i, n)` starts with `w`, whose first byte p[i] is known to be: its
// second byte is compared first (it rules out most places).
template <size_t N>
inline bool At(const char* p, size_t i, size_t n, const char (&w)[N]) {
  static_assert(N > 2);
  return n - i >= N - 1 && p[i + 1] == w[1] && std::memcmp(p + i + 2, w + 2, N - 3) == 0;
}

// The flags of `d`'s bytes, the residual flag not yet derived.
uint32_t RawPhraseFlags(std::string_view d) {
  const char* p = d.data();
  const size_t n = d.size();
  uint32_t f = 0;
  if (n >= 6 && std::memcmp(p, "Other ", 6) == 0) f |= kTitleStartsOther;
  for (size_t i = 0; i < n; ++i) {
    switch (p[i]) {
      case 'u':
        if (At(p, i, n, "unspecified")) {
          f |= kTitleUnspecified;
          if (At(p, i, n, "unspecified severity")) f |= kTitleUnspecifiedSeverity;
          if (At(p, i, n, "unspecified type")) f |= kTitleUnspecifiedType;
        } else if (At(p, i, n, "uncomplicated")) {
          f |= kTitleUncomplicated;
        }
        break;
      case 'U':
        if (At(p, i, n, "Unspecified")) f |= kTitleUnspecified;
        break;
      case 'A':
        // "Asymptomatic varicose veins ..." (I83.9-) is what a chart means
        // that names no symptom or complication.
        if (i == 0 && At(p, i, n, "Asymptomatic")) f |= kTitleUncomplicated;
        break;
      case 'w':
        if (At(p, i, n, "without")) {
          f |= kTitleWithout;
          if (At(p, i, n, "without ")) f |= kTitleWithoutSpace;
          if (At(p, i, n, "without complication")) f |= kTitleUncomplicated;
        }
        break;
      case 'n':
        if (At(p, i, n, "not having achieved remission")) {
          f |= kTitleUncomplicated;
        } else if (At(p, i, n, "not intractable")) {
          f |= kTitleNotIntractable;
        }
        break;
      case ' ':
        if (At(p, i, n, " other ")) {
          f |= kTitleOther;
        } else if (At(p, i, n, " and ")) {
          f |= kTitleAnd;
        }
        break;
      case 'o':
        if (At(p, i, n, "other and unspecified")) f |= kTitleOtherAndUnspecified;
        break;
      case 'i':
        if (At(p, i, n, "initial encounter")) f |= kTitleInitialEncounter;
        break;
      case 's':
        if (At(p, i, n, "subsequent encounter") || At(p, i, n, "sequela")) {
          f |= kTitleLaterEncounter;
        }
        break;
      case 'c':
        if (At(p, i, n, "closed fracture")) f |= kTitleClosedFracture;
        break;
      case 'r':
        if (At(p, i, n, "routine healing")) f |= kTitleRoutineHealing;
        break;
      case ',':
        if (At(p, i, n, ", not ")) f |= kTitleCommaNot;
        break;
      default:
        break;
    }
  }
  return f;
}

// IsResidualTitle() from its parts.
uint32_t WithResidual(uint32_t f) {
  if ((f & kTitleStartsOther) || ((f & kTitleOther) && !(f & kTitleOtherAndUnspecified))) {
    f |= kTitleResidual;
  }
  return f;
}

}  // namespace

// One pass over the title's bytes; at each byte only the phrases that begin
// with it are compared.
uint32_t TitlePhraseFlags(std::string_view title) { return WithResidual(RawPhraseFlags(title)); }

std::vector<CodeTitleFacts> ComputeCodeTitleFacts(const CodeSet& codes, const Lexicon& lexicon) {
  const uint32_t n = static_cast<uint32_t>(codes.code_count());
  std::vector<CodeTitleFacts> out(n);
  // A 7th-character expansion's title is, as a rule, its parent's, ", " and
  // the 7th character's words ("..., initial encounter for closed
  // fracture"): its flags are its parent's and those of the suffix, read
  // once per distinct suffix (no phrase but ", not " has a comma, and that
  // one begins at the comma). Other titles are read whole.
  absl::flat_hash_map<std::string_view, uint32_t> suffix_flags;
  for (uint32_t id = 0; id < n; ++id) {
    const Code c = codes.CodeAt(id);
    const std::string_view d = c.description();
    CodeTitleFacts& f = out[id];
    f.words = WordSignature(lexicon.TitleWords(id));
    f.depth = static_cast<uint32_t>(c.depth());
    uint32_t raw = 0;
    std::optional<Code> parent;
    std::string_view parent_title;
    if (c.is_seventh_character_expansion() && (parent = c.parent()) && parent->id() < id) {
      parent_title = parent->description();
    }
    if (!parent_title.empty() && d.size() > parent_title.size() + 1 &&
        d[parent_title.size()] == ',' && d.starts_with(parent_title)) {
      const std::string_view suffix = d.substr(parent_title.size());
      auto [it, fresh] = suffix_flags.try_emplace(suffix, 0);
      if (fresh) it->second = RawPhraseFlags(suffix) & ~kTitleStartsOther;
      raw = (out[parent->id()].flags & ~(kTitleResidual | kTitleBillable |
                                         kTitleSeventhExpansion)) |
            it->second;
    } else {
      raw = RawPhraseFlags(d);
    }
    f.flags = WithResidual(raw);
    if (c.billable()) f.flags |= kTitleBillable;
    if (c.is_seventh_character_expansion()) {
      f.flags |= kTitleSeventhExpansion;
    } else if (c.billable()) {
      // "Influenza due to other identified influenza virus NOS" under J10
      // "Influenza due to other identified influenza virus": J10.1 is the
      // code of the parent's condition when the chart says no more. (Not
      // "Benign neoplasm of nose NOS" of D36.7: a site, not the parent.)
      const std::optional<Code> up = c.parent();
      const std::string_view up_title = up ? up->description() : std::string_view();
      for (const Note& note : c.notes()) {
        if (note.kind == NoteKind::kInclusionTerm && note.text.ends_with(" NOS") &&
            !up_title.empty() &&
            EqualsIgnoreCase(note.text.substr(0, note.text.size() - 4), up_title)) {
          f.flags |= kTitleNosInclusion;
          break;
        }
      }
    }
  }
  return out;
}

// The code table is in preorder: a root's descendants are the ids after it,
// and the next root follows them.
BillableCodes::BillableCodes(const CodeSet& codes, absl::Span<const CodeTitleFacts> facts) {
  const uint32_t n = static_cast<uint32_t>(codes.code_count());
  for (uint32_t root = 0; root < n;) {
    const uint32_t end = root + 1 + static_cast<uint32_t>(codes.CodeAt(root).descendant_count());
    roots_.push_back(root);
    begins_.push_back(static_cast<uint32_t>(entries_.size()));
    for (uint32_t id = root + 1; id < end; ++id) {
      if (facts[id].has(kTitleBillable)) entries_.push_back({facts[id], id});
    }
    root = end;
  }
  begins_.push_back(static_cast<uint32_t>(entries_.size()));
}

absl::Span<const BillableCodes::Entry> BillableCodes::InCategoryOf(uint32_t id) const {
  const size_t k = std::upper_bound(roots_.begin(), roots_.end(), id) - roots_.begin();
  if (k == 0) return {};
  return absl::MakeConstSpan(entries_).subspan(begins_[k - 1], begins_[k] - begins_[k - 1]);
}

}  // namespace chartcoder::internal
