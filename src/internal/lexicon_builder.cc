#include "src/internal/lexicon_builder.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/pack_format.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

struct PhraseWords {
  std::vector<std::string> required;
  std::vector<uint8_t> group;  // parallel to `required`
  std::vector<std::string> optional;

  uint8_t next_group() const {
    constexpr uint8_t kMarks = kLexGroupWithout | kLexGroupBelowWithout;
    return group.empty() ? 0 : static_cast<uint8_t>((group.back() & ~kMarks) + 1);
  }
  // Appends `other`'s words as new groups.
  void Append(const PhraseWords& other) {
    const uint8_t base = next_group();
    for (size_t i = 0; i < other.required.size(); ++i) {
      required.push_back(other.required[i]);
      group.push_back(static_cast<uint8_t>(std::min(60, base + other.group[i])));
    }
    optional.insert(optional.end(), other.optional.begin(), other.optional.end());
  }
  // Moves the required word `stem` (and its place in its group) to the
  // optional words.
  void MakeOptional(const std::string& stem) {
    for (size_t i = 0; i < required.size(); ++i) {
      if (required[i] != stem) continue;
      required.erase(required.begin() + static_cast<std::ptrdiff_t>(i));
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(i));
      optional.push_back(stem);
      return;
    }
  }
  void AppendOptional(const PhraseWords& other) {
    optional.insert(optional.end(), other.required.begin(), other.required.end());
    optional.insert(optional.end(), other.optional.begin(), other.optional.end());
  }
};

// True when `w` names a limb: leg, arm, lower or upper limb.
bool NamesLimb(const PhraseWords& w) {
  for (const std::string& r : w.required) {
    if (r == "leg" || r == "arm" || r == "limb") return true;
  }
  return false;
}

// Turns a title or term into required and optional words: words in
// parentheses or brackets are optional, a "without ..." clause is dropped (it
// describes the default), "unspecified" and the vague noun after it go, and
// connectors are skipped.
PhraseWords PhraseToWords(std::string_view text, bool drop_without_clause) {
  PhraseWords out;
  std::string required_text;
  std::string optional_text;
  int depth = 0;
  for (char c : text) {
    if (c == '(' || c == '[') {
      ++depth;
      required_text.push_back(' ');
      continue;
    }
    if (c == ')' || c == ']') {
      if (depth > 0) --depth;
      optional_text.push_back(' ');
      continue;
    }
    (depth > 0 ? optional_text : required_text).push_back(c);
    (depth > 0 ? required_text : optional_text).push_back(' ');
  }
  std::vector<LexWord> words;
  LexiconWords(required_text, &words);
  // "Deficiency, vitamin, A": a title that is only the letter.
  if (words.size() == 1 && words[0].raw == "a" && Trim(text).size() == 1) {
    words[0].stem = std::string(kLetterAStem);
  }
  uint8_t group = 0;
  bool group_open = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i].stem;
    if (drop_without_clause && w == "without") break;
    // "..., not specified as acute or chronic" (J40): the words of that clause,
    // up to the next comma, are what the title says the chart does not say
    // ("..., not specified as Sjögren's, right eye" keeps "right eye").
    if (drop_without_clause && w == "not" && i + 1 < words.size() &&
        words[i + 1].stem.starts_with("specifi")) {
      i = ClauseEnd(required_text, words, i + 1);  // the loop's ++i moves past the clause
      if (group_open) ++group;
      group_open = false;
      continue;
    }
    // A comma or semicolon between words closes the group.
    if (i > 0 && group_open) {
      std::string_view between = std::string_view(required_text)
                                     .substr(words[i - 1].end, words[i].begin - words[i - 1].end);
      if (between.find_first_of(",;:") != std::string_view::npos) {
        ++group;
        group_open = false;
      }
    }
    if (w == "unspecifi") {
      if (i + 1 < words.size() && IsVagueNoun(words[i + 1].stem)) ++i;
      continue;
    }
    // "lumbar region", "cervical region": charts name the region by its
    // adjective alone ("lumbar radiculopathy"); "transaminase level", "C5
    // level": the thing measured or reached by its name ("elevated
    // transaminases", "C5 spinal cord injury").
    if ((w == "region" || w == "level") && group_open) {
      out.optional.push_back(w);
      continue;
    }
    if (IsLexiconStopWord(w)) {
      if (group_open) ++group;
      group_open = false;
      continue;
    }
    out.required.push_back(w);
    out.group.push_back(group);
    group_open = true;
  }
  if (!out.group.empty()) {
    // Renumber groups densely from 0.
    uint8_t next = 0;
    uint8_t last = out.group[0];
    for (uint8_t& g : out.group) {
      if (g != last) {
        ++next;
        last = g;
      }
      g = next;
    }
  }
  words.clear();
  LexiconWords(optional_text, &words);
  for (const LexWord& w : words) {
    if (!IsLexiconStopWord(w.stem)) out.optional.push_back(w.stem);
  }
  return out;
}

// "Failure, failed" -> {"Failure", "failed"}: the comma-separated parts of an
// index title. Whether a later part is another form of the first or a
// modifier of it is decided by TitleWords().
std::vector<std::string_view> Alternatives(std::string_view title) {
  std::vector<std::string_view> out;
  for (std::string_view part : Split(title, ',')) {
    part = Trim(part);
    if (!part.empty()) out.push_back(part);
  }
  if (out.empty()) out.push_back(title);
  return out;
}

// True when `word` is one word of two or more capitals and digits, starting
// with a capital ("AIDS", "PRES", "G6PD"), not a code ("A41").
bool IsAcronym(std::string_view word) {
  word = Trim(word);
  if (word.size() < 2 || !(word[0] >= 'A' && word[0] <= 'Z')) return false;
  int letters = 0;
  for (char c : word) {
    if (c >= 'A' && c <= 'Z') {
      ++letters;
    } else if (!(c >= '0' && c <= '9')) {
      return false;
    }
  }
  return letters >= 2;
}

// True when `part` is another form of a word of `first` ("failed" of
// "Failure", "abdominal" of "Abdomen", "diabetic" of "Diabetes"): they share
// their first four letters.
bool IsVariantOf(std::string_view part, std::string_view first) {
  std::string p = AsciiLower(Trim(part));
  // Irregular forms the letters do not show ("Tear, torn").
  if (p == "torn" && EqualsIgnoreCase(Trim(first), "tear")) return true;
  if (p.size() < 4 || p.find(' ') != std::string::npos) return false;
  std::vector<LexWord> words;
  LexiconWords(first, &words);
  for (const LexWord& w : words) {
    std::string lw = AsciiLower(first.substr(w.begin, w.end - w.begin));
    if (lw.size() >= 4 && lw.compare(0, 4, p, 0, 4) == 0) return true;
    // An adjective sharing three letters ("Femur, femoral").
    auto ends = [&](std::string_view suffix) {
      return p.size() > suffix.size() + 3 && p.compare(p.size() - suffix.size(), suffix.size(),
                                                       suffix) == 0;
    };
    if (lw.size() >= 4 && lw.compare(0, 3, p, 0, 3) == 0 &&
        (ends("al") || ends("ic") || ends("ous") || ends("ar") || ends("ary"))) {
      return true;
    }
  }
  return false;
}

// The items of a title that is a list of single words ending in "or"
// ("neuritis, radiculitis, radiculopathy or sciatica"; at least one comma),
// else nothing.
std::vector<std::string> WordListAlternatives(std::string_view title) {
  std::string lower = AsciiLower(Trim(title));
  const size_t last_or = lower.rfind(" or ");
  if (last_or == std::string::npos || lower.find(',') == std::string::npos ||
      lower.find(',') > last_or) {
    return {};
  }
  lower.replace(last_or, 4, ",");
  std::vector<std::string> items;
  for (std::string_view part : Split(lower, ',')) {
    part = Trim(part);
    if (part.empty()) return {};
    for (char c : part) {
      if (!((c >= 'a' && c <= 'z') || c == '-')) return {};
    }
    items.emplace_back(part);
  }
  return items.size() >= 2 ? items : std::vector<std::string>{};
}

// An index title without its "NOS" ("intervertebral disc NOS", "sensorineural
// NOS"): in the index the word only says that nothing more is specified, as
// a chart that writes no more does not say it. (Tabular inclusion terms keep
// theirs: "Wound NOS" is not every wound a chart mentions.)
std::string IndexTitleWithoutNos(std::string_view title) {
  std::string out;
  size_t i = 0;
  while (i < title.size()) {
    size_t j = title.find("NOS", i);
    if (j == std::string_view::npos) break;
    const bool word_begin =
        j == 0 || !absl::ascii_isalnum(static_cast<unsigned char>(title[j - 1]));
    const bool word_end =
        j + 3 == title.size() || !absl::ascii_isalnum(static_cast<unsigned char>(title[j + 3]));
    out.append(title.substr(i, j - i));
    if (!(word_begin && word_end)) out.append("NOS");
    i = j + 3;
  }
  out.append(title.substr(i));
  return out;
}

// The words of an index title, in up to two forms: "Failure, failed" gives
// one form (the variant stems alike); "Abdomen, abdominal" gives "abdomen"
// and "abdominal"; "Acroasphyxia, chronic" gives one form needing both
// words (a comma part that is not a variant is a modifier).
std::vector<PhraseWords> TitleWords(std::string_view title) {
  std::vector<std::string_view> parts = Alternatives(title);
  PhraseWords base = PhraseToWords(parts[0], false);
  std::vector<std::string_view> variants;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (IsVariantOf(parts[i], parts[0])) {
      variants.push_back(parts[i]);
    } else if (AsciiLower(Trim(parts[i])) == "traumatic") {
      // "Fracture, traumatic": a fracture or injury is traumatic unless the
      // chart says otherwise (the index lists pathological ones apart).
      base.AppendOptional(PhraseToWords(parts[i], false));
    } else {
      base.Append(PhraseToWords(parts[i], false));
    }
  }
  std::vector<PhraseWords> out = {base};
  if (!variants.empty()) {
    // The first variant replaces the word it is a form of.
    PhraseWords alt = PhraseToWords(variants[0], false);
    PhraseWords first_alt = base;
    if (!alt.required.empty() && !first_alt.required.empty()) {
      std::vector<LexWord> words;
      LexiconWords(parts[0], &words);
      std::string v = AsciiLower(Trim(variants[0]));
      for (size_t i = 0, k = 0; i < words.size() && k < first_alt.required.size(); ++i) {
        if (first_alt.required[k] != words[i].stem) continue;
        std::string lw = AsciiLower(parts[0].substr(words[i].begin, words[i].end - words[i].begin));
        // The word sharing its first letters, or the title's only word.
        if ((lw.size() >= 4 && lw.compare(0, 3, v, 0, 3) == 0) || words.size() == 1) {
          first_alt.required[k] = alt.required[0];
          break;
        }
        ++k;
      }
      if (first_alt.required != base.required) out.push_back(first_alt);
    }
  }
  return out;
}

std::string UndotUpper(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '.' || c == ' ') continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

struct Entry {
  std::vector<std::string> required;  // sorted, unique
  std::vector<uint8_t> group;         // parallel to `required`
  std::vector<std::string> optional;  // sorted, unique, disjoint from required
  LexSource source;
  uint8_t flags = 0;
  uint32_t code = kNone;
  uint32_t code2 = kNone;
  std::string phrase;
  // Reached only below an index subterm that adds no words and names a
  // residual ("specified NEC"); see DropResidualTwins.
  bool below_residual = false;
};

class LexiconCompiler {
 public:
  explicit LexiconCompiler(const LexiconSources& src) : src_(src) {}

  absl::Status Run(PackWriter* w, std::map<std::string, std::string>* meta) {
    LoadExclusions();
    AddTabular();
    AddIndex();
    AddNeoplasms();
    absl::Status s = AddCurated();
    if (!s.ok()) return s;
    DropResidualTwins();
    AddMorphologies();
    AddFoldedSpellings();
    s = AddSenseWords();
    if (!s.ok()) return s;
    AddAbbreviations();
    Write(w, meta);
    return absl::OkStatus();
  }

 private:
  // Resolves "E11.9", "S72.9-", "C34.9-" to a pack id (the code itself, or
  // the code the dash hangs from). Returns kNone when unknown.
  uint32_t Resolve(std::string_view code, uint8_t* flags) const {
    std::string key = UndotUpper(code);
    bool incomplete = false;
    while (!key.empty() && key.back() == '-') {
      key.pop_back();
      incomplete = true;
    }
    auto it = src_.code_by_key->find(key);
    if (it == src_.code_by_key->end()) return kNone;
    if (incomplete && flags != nullptr) *flags |= kLexIncompleteCode;
    return it->second;
  }

  std::string KeyOf(uint32_t id) const { return code_keys_.empty() ? "" : code_keys_[id]; }

  bool Excluded(uint32_t code) const {
    if (code == kNone) return true;
    const std::string& key = code_keys_[code];
    for (const std::string& prefix : excluded_prefixes_) {
      if (key.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
  }

  void Add(PhraseWords words, LexSource source, uint32_t code, uint32_t code2, uint8_t flags,
           std::string phrase) {
    // The exclusions drop the index's and the titles' words for a code; a
    // curated phrase names its code on purpose ("history of falls" Z91.81,
    // where the index's "at risk for falling" would read "low fall risk").
    if (code == kNone || (source != LexSource::kCurated && Excluded(code))) {
      ++excluded_;
      return;
    }
    if (source != LexSource::kCurated && !stoplist_.empty()) {
      std::vector<std::string> key = words.required;
      std::sort(key.begin(), key.end());
      key.erase(std::unique(key.begin(), key.end()), key.end());
      if (stoplist_.contains(Join(key, " "))) {
        ++stopped_;
        return;
      }
    }
    Entry e;
    std::vector<std::pair<std::string, uint8_t>> req;
    for (size_t i = 0; i < words.required.size(); ++i) {
      req.emplace_back(words.required[i], i < words.group.size() ? words.group[i] : 0);
    }
    std::sort(req.begin(), req.end());
    req.erase(std::unique(req.begin(), req.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              req.end());
    if (req.empty() || req.size() > 24) return;
    words.required.clear();
    for (auto& [word, g] : req) {
      words.required.push_back(word);
      e.group.push_back(g);
    }
    std::sort(words.optional.begin(), words.optional.end());
    words.optional.erase(std::unique(words.optional.begin(), words.optional.end()),
                         words.optional.end());
    for (std::string& o : words.optional) {
      if (!std::binary_search(words.required.begin(), words.required.end(), o) &&
          e.optional.size() < 16) {
        e.optional.push_back(std::move(o));
      }
    }
    e.required = std::move(words.required);
    e.source = source;
    e.flags = flags;
    e.code = code;
    e.code2 = code2;
    e.phrase = std::move(phrase);
    e.below_residual = residual_depth_ > 0;
    // One entry per (word set, code): the most trusted source wins.
    auto [it, inserted] = seen_.emplace(EntrySignature(e), entries_.size());
    if (!inserted) {
      // The same words and code reached by two paths keep the non-essential
      // words of both ("Paranoid, schizophrenia" and "Schizophrenia,
      // paranoid (type)": F20.0 reads the "type" of "schizophrenia, paranoid
      // type").
      Entry& old = entries_[it->second];
      std::vector<std::string> optional = old.optional;
      for (std::string& o : e.optional) {
        if (optional.size() < 16 &&
            std::find(optional.begin(), optional.end(), o) == optional.end()) {
          optional.push_back(std::move(o));
        }
      }
      std::sort(optional.begin(), optional.end());
      const bool below_residual = old.below_residual && e.below_residual;
      if (static_cast<int>(source) < static_cast<int>(old.source)) old = std::move(e);
      old.optional = std::move(optional);
      old.below_residual = below_residual;
      return;
    }
    entries_.push_back(std::move(e));
  }

  // The words (and "without") of an entry, and with `code` its code(s).
  static std::string EntrySignature(const Entry& e, bool code = true) {
    std::string sig = Join(e.required, " ");
    if (code) StrAppend(&sig, "|", e.code, "|", e.code2);
    if (e.flags & kLexWithout) sig += "|without";
    return sig;
  }

  // An entry reached only below a subterm that adds no words and names a
  // residual ("Pneumonia, specified NEC, virus NEC": J12.89, other viral
  // pneumonia) says no more than the words it has; where an entry reached
  // otherwise has the same words with another code ("Pneumonia, in, virus":
  // J12.9, viral pneumonia, unspecified), the chart named that one, and the
  // residual entry goes.
  void DropResidualTwins() {
    absl::flat_hash_set<std::string> plain;
    for (const Entry& e : entries_) {
      if (!e.below_residual) plain.insert(EntrySignature(e, /*code=*/false));
    }
    size_t kept = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].below_residual && plain.contains(EntrySignature(entries_[i], false))) {
        continue;
      }
      if (kept != i) entries_[kept] = std::move(entries_[i]);
      ++kept;
    }
    entries_.resize(kept);
    seen_.clear();
    for (size_t i = 0; i < entries_.size(); ++i) seen_.emplace(EntrySignature(entries_[i]), i);
  }

  void LoadExclusions() {
    code_keys_.assign(src_.code_by_key->size(), "");
    for (const auto& [key, id] : *src_.code_by_key) {
      if (id < code_keys_.size()) code_keys_[id] = key;
    }
    if (auto sl = src_.tables->find("curated/lexicon_stoplist"); sl != src_.tables->end()) {
      for (size_t r = 1; r < sl->second.rows.size(); ++r) {
        if (sl->second.rows[r].empty()) continue;
        PhraseWords w = PhraseToWords(sl->second.rows[r][0], false);
        std::sort(w.required.begin(), w.required.end());
        w.required.erase(std::unique(w.required.begin(), w.required.end()), w.required.end());
        if (!w.required.empty()) stoplist_.insert(Join(w.required, " "));
      }
    }
    auto it = src_.tables->find("curated/lexicon_exclusions");
    if (it == src_.tables->end() || it->second.rows.empty()) return;
    for (size_t r = 1; r < it->second.rows.size(); ++r) {
      if (!it->second.rows[r].empty() && !it->second.rows[r][0].empty()) {
        excluded_prefixes_.push_back(UndotUpper(it->second.rows[r][0]));
      }
    }
  }

  void AddTabular() {
    const ParsedTabular& t = *src_.tabular;
    // The word a "Fracture of ..." code's inclusion terms may lack (below).
    const PhraseWords fracture = PhraseToWords("fracture", false);
    for (size_t i = 0; i < t.codes.size(); ++i) {
      const ParsedCode& c = t.codes[i];
      const uint32_t id = (*src_.code_ids)[i];
      if (c.seventh_expansion) continue;  // the code above it carries the words
      // "Enterococcus as the cause of diseases classified elsewhere" (B95.2):
      // the organism's words, as the index's agents (AddAgent).
      if (const std::string lower = AsciiLower(c.description);
          AgentPhraseStart(lower) != std::string::npos) {
        AddTabularAgent(c);
        continue;
      }
      // A residual title without its stop word "other" would claim every
      // mention of its words ("Atherosclerosis of other arteries").
      const bool residual =
          IsResidualTitle(c.description) || Contains(c.description, "classified elsewhere");
      if (!residual) {
        Add(PhraseToWords(c.description, true), LexSource::kDescription, id, kNone, 0,
            c.description);
      }
      // A manifestation "in diseases classified elsewhere" (N16, with
      // "Pyelonephritis" among its inclusion terms) is reached through its
      // etiology's notes and the index's "in" subterms, never from its own
      // words alone: "pyelonephritis" is N12, not N16.
      const bool manifestation = Contains(c.description, "in diseases classified elsewhere") ||
                                 Contains(c.description, "in other diseases classified elsewhere");
      for (const ParsedNote& n : c.notes) {
        if (n.kind == NoteKind::kInclusionTerm && !manifestation) {
          PhraseWords w = PhraseToWords(n.text, true);
          // "Fracture of other parts of neck" includes "Larynx", "Trachea";
          // "Fracture of patella", "Knee cap": the part names the fracture
          // only with the word.
          if (c.description.starts_with("Fracture of")) {
            if (std::find(w.required.begin(), w.required.end(), fracture.required[0]) ==
                w.required.end()) {
              w.Append(fracture);
            }
          }
          Add(std::move(w), LexSource::kInclusion, id, kNone, 0, n.text);
        }
      }
    }
  }

  // An agent code's title and inclusion terms (B95-B97) without their "as
  // the cause of diseases classified elsewhere", unless residual ("Other
  // streptococcus").
  void AddTabularAgent(const ParsedCode& c) {
    auto add = [&](std::string_view text, LexSource source) {
      const size_t cut = AgentPhraseStart(AsciiLower(text));
      const std::string_view own =
          Trim(text.substr(0, cut == std::string::npos ? text.size() : cut));
      if (own.empty() || IsResidualTitle(own)) return;
      AddAgentEntries({PhraseToWords(own, true)}, source, c.code, std::string(text));
    };
    add(c.description, LexSource::kDescription);
    for (const ParsedNote& n : c.notes) {
      if (n.kind == NoteKind::kInclusionTerm) add(n.text, LexSource::kInclusion);
    }
  }

  // Index terms by folded title, for resolving "see" references.
  // The main terms a "see" reference may mean: the one of that title, else
  // every main term it heads ("Fracture" heads "Fracture, burst", ...,
  // "Fracture, traumatic").
  std::vector<const ParsedTerm*> FindMain(std::string_view title) const {
    std::string folded = AsciiLower(title);
    auto it = main_by_title_.find(folded);
    if (it != main_by_title_.end()) return {it->second};
    auto it2 = main_by_first_.find(folded);
    return it2 == main_by_first_.end() ? std::vector<const ParsedTerm*>{} : it2->second;
  }

  static const ParsedTerm* FindChild(const ParsedTerm& t, std::string_view title) {
    const ParsedTerm* partial = nullptr;
    for (const ParsedTerm& c : t.children) {
      if (EqualsIgnoreCase(c.title, title)) return &c;
      if (partial == nullptr && EqualsIgnoreCase(Alternatives(c.title)[0], title)) partial = &c;
    }
    if (partial != nullptr) return partial;
    // "Disorder, disc, cervical, with neuritis": the index writes the
    // connector as a term of its own ("with" > "neuritis, radiculitis or
    // radiculopathy").
    for (std::string_view connector : {"with ", "without "}) {
      if (title.size() <= connector.size() ||
          !EqualsIgnoreCase(title.substr(0, connector.size()), connector)) {
        continue;
      }
      const ParsedTerm* c = FindChild(t, Trim(connector));
      return c == nullptr ? nullptr : FindChild(*c, Trim(title.substr(connector.size())));
    }
    return nullptr;
  }

  // "Failure, heart, congestive" -> the term at that path, or nullptr.
  const ParsedTerm* ResolveSee(std::string_view see) const {
    std::vector<std::string_view> parts = Alternatives(see);
    for (size_t head = std::min<size_t>(2, parts.size()); head >= 1; --head) {
      std::string main_title(parts[0]);
      for (size_t k = 1; k < head; ++k) StrAppend(&main_title, ", ", parts[k]);
      std::vector<const ParsedTerm*> mains = FindMain(main_title);
      // "Fracture, traumatic > hip - see Fracture, femur, neck" means the
      // traumatic fracture: the main term that holds the reference first.
      auto self = std::find(mains.begin(), mains.end(), current_main_);
      if (self != mains.end()) std::rotate(mains.begin(), self, self + 1);
      for (const ParsedTerm* t : mains) {
        for (size_t k = head; t != nullptr && k < parts.size(); ++k) t = FindChild(*t, parts[k]);
        if (t != nullptr) return t;
      }
    }
    return nullptr;
  }

  void AddIndex() {
    for (const ParsedTerm& m : src_.index->main_terms) {
      main_by_title_.emplace(AsciiLower(m.title), &m);
      main_by_first_[AsciiLower(Alternatives(m.title)[0])].push_back(&m);
    }
    std::vector<std::string> path_titles;
    for (const ParsedTerm& m : src_.index->main_terms) {
      current_main_ = &m;
      WalkIndex(m, &path_titles, {});
    }
    current_main_ = nullptr;
  }

  // Where "as cause of disease(s) classified elsewhere" (or "as the cause
  // of ...") starts in the lower-case title `lower`, or npos.
  static size_t AgentPhraseStart(std::string_view lower) {
    for (std::string_view p : {"as cause of ", "as the cause of "}) {
      const size_t at = lower.find(p);
      if (at != std::string_view::npos && (at == 0 || lower[at - 1] == ' ' ||
                                           lower[at - 1] == ',')) {
        return at;
      }
    }
    return std::string_view::npos;
  }

  // The entries of an infectious agent (B95-B97) from an index term naming
  // it "as cause of disease classified elsewhere": the organism's words (the
  // path's and the title's before the phrase, then its subterms': "aureus",
  // "methicillin resistant"). The coder codes them only beside a condition
  // the organism causes.
  void AddAgent(const ParsedTerm& t, size_t cut, const std::vector<std::string>& path,
                const std::vector<PhraseWords>& forms) {
    std::string_view own_title = Trim(std::string_view(t.title).substr(0, cut));
    while (!own_title.empty() && (own_title.back() == ',' || own_title.back() == ' ')) {
      own_title.remove_suffix(1);
    }
    std::vector<PhraseWords> own = own_title.empty()
                                       ? std::vector<PhraseWords>{PhraseWords()}
                                       : TitleWords(IndexTitleWithoutNos(own_title));
    AddAgentTerm(t, path.empty() ? std::move(own) : Followed(forms, own),
                 path.empty() ? t.title : StrCat(Join(path, " > "), " > ", t.title));
  }

  // Each of `heads` followed by each of `tails` (a term's forms by its
  // subterm's).
  static std::vector<PhraseWords> Followed(const std::vector<PhraseWords>& heads,
                                           const std::vector<PhraseWords>& tails) {
    std::vector<PhraseWords> out;
    for (const PhraseWords& h : heads) {
      for (const PhraseWords& t : tails) {
        out.push_back(h);
        out.back().Append(t);
      }
    }
    return out;
  }

  // `t`'s entries from `here` (its words and its ancestors'), then its
  // subterms'. A subterm that adds no words ("specified NEC") gets none: it
  // would repeat its parent's words with a residual code (B96.29 beside
  // B96.20).
  void AddAgentTerm(const ParsedTerm& t, std::vector<PhraseWords> here, const std::string& phrase,
                    bool adds_words = true) {
    const PhraseWords nemod = PhraseToWords(t.nemod, false);
    for (PhraseWords& w : here) w.AppendOptional(nemod);
    if (adds_words && !t.code.empty()) AddAgentEntries(here, LexSource::kIndex, t.code, phrase);
    for (const ParsedTerm& c : t.children) {
      const std::vector<PhraseWords> own = TitleWords(IndexTitleWithoutNos(c.title));
      AddAgentTerm(c, Followed(here, own), StrCat(phrase, " > ", c.title),
                   !own.empty() && !own[0].required.empty());
    }
  }

  // Entries for an agent's words and `code` (B95-B97 only; "infection" is
  // optional, as "MRSA, infection, as the cause of diseases classified
  // elsewhere" is written "MRSA"). Agents named by no more than a class
  // ("bacterial agent NEC", "virus, viral NOS") get no entry: any "viral" or
  // "bacterial" of a chart would read as one.
  void AddAgentEntries(std::vector<PhraseWords> words, LexSource source, std::string_view code_text,
                       const std::string& phrase) {
    const std::string name = UndotUpper(code_text);
    if (!(name.starts_with("B95") || name.starts_with("B96") || name.starts_with("B97"))) {
      return;
    }
    uint8_t flags = 0;
    const uint32_t code = Resolve(code_text, &flags);
    if (code == kNone) return;
    static constexpr std::string_view kInfection[] = {"infection", "infected", "infective"};
    static constexpr std::string_view kClassOnly[] = {
        "bacterium", "bacteria", "bacterial", "agent", "virus", "viral", "type", "organism"};
    for (PhraseWords& w : words) {
      for (std::string_view x : kInfection) w.MakeOptional(NormalizeLexiconWord(x));
      const bool names_organism = std::any_of(
          w.required.begin(), w.required.end(), [](const std::string& r) {
            return std::none_of(std::begin(kClassOnly), std::end(kClassOnly),
                                [&](std::string_view c) { return NormalizeLexiconWord(c) == r; });
          });
      if (names_organism) Add(std::move(w), source, code, kNone, flags | kLexAgent, phrase);
    }
  }

  // `forms` holds the words of the ancestors, one entry per form of the main
  // term ("Abdomen" / "abdominal").
  // `without`: the path runs through a "without ..." subterm.
  // `parent`: the term `t` is a child of (nullptr for a main term).
  void WalkIndex(const ParsedTerm& t, std::vector<std::string>* path,
                 std::vector<PhraseWords> forms, bool without = false,
                 const ParsedTerm* parent = nullptr) {
    const bool is_main = path->empty();
    const std::string lower = AsciiLower(t.title);
    // "Migraine, without aura": an entry the matcher tries only where the
    // chart says "without" (or "w/o", "no") between its words.
    // ("Concussion, with, no loss of consciousness": "no" says the same.)
    const bool without_here =
        !is_main && (lower.starts_with("without ") || lower.starts_with("no "));
    if (is_main && lower.starts_with("without")) return;
    without = without || without_here;
    // So does "not specified as recurrent" (its parent takes its code); its
    // words would say "recurrent" as its sibling does.
    if (lower.rfind("not specified as ", 0) == 0) return;
    // "Escherichia coli, as cause of disease classified elsewhere" (B96.20):
    // the organism of a condition coded elsewhere, which a chart names alone
    // ("UTI due to E. coli").
    if (const size_t cut = AgentPhraseStart(lower); cut != std::string::npos) {
      AddAgent(t, cut, *path, forms);
      return;
    }
    // "in diseases classified elsewhere": a manifestation reached through its
    // etiology's own entry, never from these words.
    if (!is_main && Contains(lower, "elsewhere")) return;
    std::vector<PhraseWords> own = TitleWords(IndexTitleWithoutNos(t.title));
    // "Displacement, intervertebral disc, lumbar region, with, neuritis,
    // radiculitis, radiculopathy or sciatica": below "with", "due to" or
    // "in", a list of single words ending in "or" names alternatives, not
    // words the chart must all write. So below a term whose nonessential
    // modifier is "(with)" ("Displacement, intervertebral disc, cervical,
    // cervicothoracic (with), neuritis, radiculitis or radiculopathy").
    if (!is_main && !path->empty()) {
      const std::string parent_lower = AsciiLower(Trim(path->back()));
      if (parent_lower == "with" || parent_lower == "due to" || parent_lower == "in" ||
          (parent != nullptr && AsciiLower(Trim(parent->nemod)) == "(with)")) {
        std::vector<std::string> items = WordListAlternatives(t.title);
        if (!items.empty()) {
          own.clear();
          for (const std::string& item : items) own.push_back(PhraseToWords(item, false));
        }
      }
    }
    // "without myelopathy or radiculopathy": the chart may deny either alone.
    if (without_here && Contains(lower, " or ")) {
      std::string_view rest = std::string_view(lower).substr(lower.find(' ') + 1);
      while (!rest.empty() && own.size() < 4) {
        const size_t cut = rest.find(" or ");
        PhraseWords w = PhraseToWords(rest.substr(0, cut), false);
        if (!w.required.empty()) own.push_back(std::move(w));
        rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 4);
      }
    }
    // "Malnutrition, degree, moderate": a codeless "degree" only groups its
    // children; charts write "moderate malnutrition".
    if (!is_main && t.code.empty() && lower == "degree") own = {PhraseWords()};
    // "Osteoarthritis, hip, unilateral M16.1-": a code that the side
    // completes is reached by the side the chart writes ("osteoarthritis of
    // the right hip"), not only by the word "unilateral".
    if (!is_main && lower == "unilateral" && t.code.ends_with('-')) {
      own.push_back(PhraseToWords("right", false));
      own.push_back(PhraseToWords("left", false));
    }
    PhraseWords nemod = PhraseToWords(t.nemod, false);
    std::vector<PhraseWords> here;
    if (is_main) {
      here = own;
    } else {
      // "Arteriosclerosis, extremities, leg": a chart names the leg, not the
      // extremities ("atherosclerosis of the right leg with rest pain").
      const bool limb_of_extremities = AsciiLower(path->back()).starts_with("extremit") &&
                                       NamesLimb(own[0]);
      const std::string extremities =
          limb_of_extremities ? NormalizeLexiconWord("extremities") : std::string();
      // "Fracture, carpal bone(s), hamate": a chart names the bone ("hamate
      // bone fracture"), not the group.
      const std::string parent = AsciiLower(path->back());
      const bool bone_of_group =
          parent.starts_with("carpal bone") || parent.starts_with("tarsal bone");
      // "Elevated, liver function, test, bilirubin": a chart names the
      // analyte ("elevated bilirubin"), not the panel it belongs to.
      const bool analyte_of_test = path->size() >= 3 && parent == "test" &&
                                   AsciiLower((*path)[path->size() - 2]).ends_with("function");
      // "Gout, idiopathic, knee": a site of gout's "idiopathic" branch is that
      // type when the chart names no other ("gout of the right knee";
      // "drug-induced gout of the knee" has more words). Not scoliosis's:
      // coders take a "lumbar scoliosis" as M41.9, not idiopathic M41.26.
      const bool site_of_idiopathic = path->size() == 2 && parent == "idiopathic" &&
                                      AsciiLower(path->front()).starts_with("gout");
      for (const PhraseWords& f : forms) {
        for (size_t k = 0; k < own.size(); ++k) {
          if (k > 0 && here.size() >= 4) break;
          PhraseWords w = f;
          if (limb_of_extremities) w.MakeOptional(extremities);
          if (site_of_idiopathic) w.MakeOptional(NormalizeLexiconWord("idiopathic"));
          if (analyte_of_test) {
            for (const std::string& x : PhraseToWords((*path)[path->size() - 2], false).required) {
              w.MakeOptional(x);
            }
            w.MakeOptional(NormalizeLexiconWord("test"));
          }
          if (bone_of_group) {
            w.MakeOptional(NormalizeLexiconWord(parent.substr(0, 6)));  // carpal, tarsal
            w.MakeOptional(NormalizeLexiconWord("bone"));
          }
          const size_t first_own = w.required.size();
          w.Append(own[k]);
          if (without) {
            const uint8_t mark = without_here ? kLexGroupWithout : kLexGroupBelowWithout;
            for (size_t i = first_own; i < w.group.size(); ++i) w.group[i] |= mark;
          }
          here.push_back(std::move(w));
        }
      }
    }
    for (PhraseWords& w : here) w.AppendOptional(nemod);
    path->push_back(t.title);
    // A subterm that adds no words ("specified NEC", "with") only groups its
    // children: an entry for it would repeat its parent with a residual code.
    const bool adds_words = !own[0].required.empty();
    const std::string phrase = Join(*path, " > ");
    uint32_t code = kNone;
    uint32_t code2 = kNone;
    uint8_t flags = 0;
    if (!t.code.empty()) code = Resolve(t.code, &flags);
    if (!t.manif.empty()) {
      uint8_t f2 = 0;
      code2 = Resolve(t.manif, &f2);
      if (code == kNone) std::swap(code, code2);
    }
    // A term with no code whose subterms are "recurrent" and "not specified
    // as recurrent" ("Colitis, Clostridium difficile") says the latter when
    // the chart says no more.
    std::string default_phrase;
    if (adds_words && code == kNone && t.see.empty()) {
      for (const ParsedTerm& c : t.children) {
        if (c.title.starts_with("not specified as ") && !c.code.empty()) {
          code = Resolve(c.code, &flags);
          default_phrase = StrCat(phrase, " > ", c.title);
          break;
        }
      }
    }
    // A main term that is an acronym in capitals ("AIDS", "PRES").
    if (is_main) {
      std::string_view first = Alternatives(t.title)[0];
      if (first.ends_with(" NEC")) first.remove_suffix(4);  // "TAC NEC"
      if (IsAcronym(first)) flags |= kLexAcronym;
    }
    if (without) flags |= kLexWithout;
    if (adds_words && code != kNone) {
      for (const PhraseWords& w : here) {
        Add(w, LexSource::kIndex, code, code2, flags,
            default_phrase.empty() ? phrase : default_phrase);
      }
    } else if (adds_words && (!t.see.empty() || (is_main && !t.see_also.empty()))) {
      // A main term with no code of its own sends the reader on with "see
      // also" as with "see" ("Dermatomyositis - see also Dermatopolymyositis").
      const std::string& see = t.see.empty() ? t.see_also : t.see;
      // "Trachea - see condition": the reader looks up what the chart says of
      // it; the word itself names nothing.
      const ParsedTerm* target =
          AsciiLower(Trim(see)).starts_with("condition") ? nullptr : ResolveSee(see);
      // A reference to a reference ("Fracture, femur, neck - see Fracture,
      // femur, upper end, neck").
      for (int hop = 0; hop < 3 && target != nullptr && target->code.empty() &&
                        !target->see.empty();
           ++hop) {
        target = ResolveSee(target->see);
      }
      // "Ulcer, heel - see Ulcer, lower limb": the coder looks "heel" up again
      // under the term it was sent to ("Ulcer, lower limb, heel": L97.40-).
      bool looked_up_again = false;
      if (target != nullptr && !is_main) {
        const ParsedTerm* again = FindChild(*target, t.title);
        // "Ulcer, foot - see Ulcer, lower limb": there it is "foot specified
        // NEC" (L97.50-).
        if (again == nullptr) {
          for (const ParsedTerm& c : target->children) {
            std::string_view title = c.title;
            for (std::string_view tail : {" specified NEC", " NEC", " NOS"}) {
              if (title.ends_with(tail)) {
                title.remove_suffix(tail.size());
                break;
              }
            }
            if (title.size() < c.title.size() && EqualsIgnoreCase(title, t.title)) {
              again = &c;
              break;
            }
          }
        }
        if (again != nullptr && !again->code.empty()) {
          target = again;
          looked_up_again = true;
        }
      }
      if (target != nullptr && !target->code.empty()) {
        uint8_t f = 0;
        uint32_t c = Resolve(target->code, &f);
        // The target's manifestation comes with it ("Dementia, in,
        // Alzheimer's disease - see Disease, Alzheimer's": G30.9 [F02.80]).
        uint8_t f2 = 0;
        const uint32_t manif = target->manif.empty() ? kNone : Resolve(target->manif, &f2);
        if (c != kNone) {
          for (const PhraseWords& w : here) {
            Add(w, LexSource::kIndexSee, c, manif, f | (flags & (kLexAcronym | kLexWithout)),
                StrCat(phrase, t.see.empty() ? " (see also " : " (see ", see, ")"));
          }
        }
        // ... and reads on below it: "Ulcer, lower limb, heel, right"
        // (L97.41-) for "ulcer of right heel". Not from inside such a walk:
        // a reference there could lead back.
        if (looked_up_again && !in_see_walk_) {
          in_see_walk_ = true;
          for (const ParsedTerm& c : target->children) WalkIndex(c, path, here, without, target);
          in_see_walk_ = false;
        }
      }
    }
    // Below a subterm that adds no words and names a residual ("specified
    // NEC", "specified"), what the chart can say is its parent's words.
    const bool residual =
        !adds_words && !is_main && (Contains(lower, "nec") || Contains(lower, "specified"));
    residual_depth_ += residual;
    for (const ParsedTerm& c : t.children) WalkIndex(c, path, here, without, &t);
    residual_depth_ -= residual;
    path->pop_back();
  }

  void AddNeoplasms() {
    // Words that stand for each column of the table.
    static const char* const kColumnWords[6] = {
        "malignant neoplasm", "secondary malignant neoplasm", "carcinoma in situ",
        "benign neoplasm", "neoplasm of uncertain behavior", "neoplasm"};
    for (const ParsedTerm& root : src_.neoplasms->main_terms) {
      for (const ParsedTerm& site : root.children) {
        WalkNeoplasm(site, PhraseWords{}, {}, kColumnWords);
      }
    }
  }

  void WalkNeoplasm(const ParsedTerm& t, const PhraseWords& base, std::vector<std::string> path,
                    const char* const column_words[6]) {
    std::vector<PhraseWords> own = TitleWords(IndexTitleWithoutNos(t.title));
    PhraseWords nemod = PhraseToWords(t.nemod, false);
    path.push_back(t.title);
    std::vector<PhraseWords> here;
    for (const PhraseWords& o : own) {
      PhraseWords w = base;
      w.Append(o);
      w.AppendOptional(nemod);
      here.push_back(std::move(w));
    }
    for (size_t col = 0; col < t.cells.size() && col < 6; ++col) {
      if (t.cells[col].empty()) continue;
      uint8_t flags = 0;
      uint32_t code = Resolve(t.cells[col], &flags);
      if (code == kNone) continue;
      const std::string phrase =
          StrCat("Neoplasm > ", Join(path, " > "), " (", column_words[col], ")");
      for (const PhraseWords& h : here) {
        PhraseWords w = h;
        w.Append(PhraseToWords(column_words[col], false));
        Add(w, LexSource::kNeoplasm, code, kNone, flags, phrase);
      }
    }
    for (const ParsedTerm& c : t.children) WalkNeoplasm(c, here[0], path, column_words);
  }

  // A word of an index title or code description written with a Latin
  // diacritic ("Sjögren", "Ménière") in the form charts mostly write:
  // without it. Returns "" when `word` has none or another non-ASCII letter.
  static std::string FoldDiacritics(std::string_view word) {
    // U+00C0..U+00FF, lower-cased: the ASCII letter each one carries.
    static constexpr char kBase[] = "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
    std::string out;
    bool folded = false;
    for (size_t i = 0; i < word.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(word[i]);
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (c != 0xC3 || i + 1 >= word.size()) return "";
      const unsigned char d = static_cast<unsigned char>(word[++i]);
      if (d < 0x80 || d > 0xBF) return "";
      const char base = kBase[(d - 0x80) & 0x1F];
      // ×, ÷, æ, þ, ß: no one ASCII letter.
      if (base == '/' || d == 0x86 || d == 0xA6 || d == 0x9E || d == 0xBE || d == 0x9F) return "";
      out.push_back(base);
      folded = true;
    }
    return folded ? out : "";
  }

  // Each word with a diacritic in the index titles and the code
  // descriptions expands from its folded spelling ("sjogren" -> "sjögren").
  void AddFoldedSpellings() {
    absl::flat_hash_set<std::string> seen;
    auto add_words = [&](std::string_view text) {
      std::string word;
      auto flush = [&] {
        if (!word.empty() && seen.insert(word).second) {
          // (Not a letter of a French phrase: "à" would make every "a" one.)
          const std::string folded = FoldDiacritics(word);
          if (folded.size() >= 4) AddExpansion(folded, word, 0, 0);
        }
        word.clear();
      };
      for (char c : text) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
          word.push_back(static_cast<char>(u >= 0x80 || c >= 'a' ? c : c - 'A' + 'a'));
        } else {
          flush();
        }
      }
      flush();
    };
    std::function<void(const ParsedTerm&)> walk = [&](const ParsedTerm& t) {
      add_words(t.title);
      for (const ParsedTerm& c : t.children) walk(c);
    };
    for (const ParsedTerm& m : src_.index->main_terms) walk(m);
    for (const ParsedCode& c : src_.tabular->codes) add_words(c.description);
  }

  // The words of the Table of Neoplasms column a "see Neoplasm, <behavior>,
  // by site" reference names, or "" when it names none or a fixed site
  // ("Neoplasm, connective tissue, malignant").
  static const char* NeoplasmColumnWords(std::string_view see) {
    std::string s = AsciiLower(see);
    std::string collapsed;
    for (char c : s) {
      if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
      collapsed.push_back(c);
    }
    std::string_view v = Trim(collapsed);
    if (v.starts_with("also ")) v.remove_prefix(5);
    if (!v.starts_with("neoplasm,") || !Contains(v, "by site")) return "";
    if (Contains(v, "malignant")) return "malignant neoplasm";
    if (Contains(v, "benign")) return "benign neoplasm";
    if (Contains(v, "in situ")) return "carcinoma in situ";
    if (Contains(v, "uncertain")) return "neoplasm of uncertain behavior";
    return "";
  }

  // A morphology of the index ("Glioblastoma - specified site, see Neoplasm,
  // malignant, by site; unspecified site C71.9"; "Leiomyosarcoma - see also
  // Neoplasm, malignant, by site") reads as its column of the Table of
  // Neoplasms: its name expands to the column's words, so that the site
  // written beside it finds the table's code ("glioblastoma of the frontal
  // lobe": C71.1). Its unspecified site, when the index names one, is an
  // entry of its own ("glioblastoma": C71.9, not C80.1). A curated expansion
  // of the same words comes first.
  void AddMorphologies() {
    for (const ParsedTerm& m : src_.index->main_terms) {
      const ParsedTerm* unspecified = nullptr;
      const char* column = NeoplasmColumnWords(m.see.empty() ? m.see_also : m.see);
      for (const ParsedTerm& c : m.children) {
        const std::string lower = AsciiLower(Trim(c.title));
        if (lower == "specified site" && *column == '\0') column = NeoplasmColumnWords(c.see);
        if (lower == "unspecified site" && !c.code.empty()) unspecified = &c;
      }
      if (*column == '\0') continue;
      const std::string_view name = Alternatives(m.title)[0];
      AddExpansion(name, column, 0, 0);
      // The unspecified site: the subterm's code, else the term's own
      // ("Seminoma C62.9-"); none when it is the column's own unspecified
      // site, which the column's words already reach ("Cancer": C80.1).
      const std::string& own =
          unspecified != nullptr ? unspecified->code : m.code;
      if (own.empty()) continue;
      static constexpr std::string_view kColumnDefaults[] = {"C80.1", "D36.9", "D48.9", "D49.9",
                                                             "D09.9"};
      if (std::find(std::begin(kColumnDefaults), std::end(kColumnDefaults), own) !=
          std::end(kColumnDefaults)) {
        continue;
      }
      uint8_t flags = 0;
      const uint32_t code = Resolve(own, &flags);
      if (code == kNone) continue;
      PhraseWords w = PhraseToWords(name, false);
      w.Append(PhraseToWords(column, false));
      Add(w, LexSource::kIndex, code, kNone, flags, StrCat(m.title, " > unspecified site"));
    }
  }

  // curated/synonyms: variant, expansion. An expansion of the form "=E11.9"
  // (or "=E11.9 =Z79.4") names codes directly; any other expansion rewrites
  // the variant's words before matching.
  absl::Status AddCurated() {
    auto it = src_.tables->find("curated/synonyms");
    if (it == src_.tables->end()) return absl::OkStatus();
    const DelimitedTable& t = it->second;
    for (size_t r = 1; r < t.rows.size(); ++r) {
      const std::vector<std::string>& row = t.rows[r];
      if (row.size() < 2) {
        return absl::InvalidArgumentError(
            StrCat("curated/synonyms line ", t.line_numbers[r], ": needs variant and expansion"));
      }
      std::string_view variant = Trim(row[0]);
      std::string_view expansion = Trim(row[1]);
      if (variant.empty() || expansion.empty()) {
        return absl::InvalidArgumentError(
            StrCat("curated/synonyms line ", t.line_numbers[r], ": empty variant or expansion"));
      }
      if (expansion == "-") {
        // Never expand this abbreviation from the inventories.
        denied_.insert(AsciiLower(variant));
        continue;
      }
      if (expansion.front() == '=') {
        std::vector<uint32_t> codes;
        for (std::string_view c : Split(expansion, ' ', true)) {
          if (c.front() != '=') continue;
          uint8_t f = 0;
          uint32_t id = Resolve(c.substr(1), &f);
          if (id == kNone) {
            return absl::InvalidArgumentError(StrCat("curated/synonyms line ", t.line_numbers[r],
                                                     ": unknown code ", c.substr(1)));
          }
          codes.push_back(id);
        }
        PhraseWords w = PhraseToWords(variant, false);
        Add(w, LexSource::kCurated, codes[0], codes.size() > 1 ? codes[1] : kNone, 0,
            std::string(variant));
      } else if (expansion == "~") {
        AddExpansion(variant, variant, 0, kExpansionBlock);
      } else if (expansion.front() == '+') {
        AddExpansion(variant, expansion.substr(1), 0, kExpansionTitlesOnly);
      } else {
        AddExpansion(variant, expansion, 0, 0);
      }
    }
    return absl::OkStatus();
  }

  // curated/abbreviation_senses: abbreviation, sense, cues. The table itself
  // is read by Lexicon::Create; here its words join the vocabulary so that
  // the chart's words can be compared with them by id.
  absl::Status AddSenseWords() {
    auto it = src_.tables->find("curated/abbreviation_senses");
    if (it == src_.tables->end()) return absl::OkStatus();
    const DelimitedTable& t = it->second;
    for (size_t r = 1; r < t.rows.size(); ++r) {
      const std::vector<std::string>& row = t.rows[r];
      auto bad = [&](std::string_view why) {
        return absl::InvalidArgumentError(
            StrCat("curated/abbreviation_senses line ", t.line_numbers[r], ": ", why));
      };
      if (row.size() != 3) return bad("needs abbreviation, sense and cues");
      std::vector<LexWord> a, sense, cues;
      LexiconWords(row[0], &a);
      if (a.size() != 1) return bad("the abbreviation must be one word");
      sense_words_.insert(a[0].raw);
      if (Trim(row[1]) != "~") {
        LexiconWords(row[1], &sense);
        if (sense.empty()) return bad("empty sense");
        for (const LexWord& w : sense) sense_words_.insert(w.stem);
      }
      if (Trim(row[2]) != "*") {
        LexiconWords(row[2], &cues);
        if (cues.empty()) return bad("no cue words (\"*\" for the default sense)");
        for (const LexWord& w : cues) sense_words_.insert(w.stem);
      }
    }
    return absl::OkStatus();
  }

  void AddExpansion(std::string_view variant, std::string_view expansion, uint8_t source,
                    uint8_t flags) {
    std::vector<LexWord> v, e;
    LexiconWords(variant, &v);
    LexiconWords(expansion, &e);
    if (v.empty() || e.empty() || v.size() > 8 || e.size() > 24) return;
    Expansion x;
    // Inventory abbreviations match the written form, in capitals; a short
    // one-word curated variant matches the written form in any case (its
    // stem could be an everyday word: "mets" -> "met").
    x.flags = flags;
    // A curated variant written in capitals ("AIDS") likewise.
    if (source == 1 || (v.size() == 1 && IsAcronym(variant))) {
      x.flags |= kExpansionRawUpper;
    } else if (v.size() == 1 && v[0].raw.size() <= 5) {
      x.flags |= kExpansionRaw;
    }
    const bool raw = x.flags & (kExpansionRawUpper | kExpansionRaw);
    for (const LexWord& w : v) x.variant.push_back(raw ? w.raw : w.stem);
    if (!(x.flags & kExpansionBlock)) {
      for (const LexWord& w : e) x.expansion.push_back(w.stem);
    }
    if (x.variant == x.expansion && source != 0) return;
    x.source = source;
    x.variant_text = std::string(variant);
    x.expansion_text = std::string(expansion);
    std::string sig = Join(x.variant, " ");
    if (!expansion_seen_.insert(StrCat(sig, "|", x.flags)).second) return;  // first wins
    expansions_.push_back(std::move(x));
  }

  // The abbreviation inventories: an abbreviation is expanded when one sense
  // dominates (≥ 90% of its uses where frequencies are given; the only sense
  // in the Wikipedia list), the abbreviation is not itself a word of the code
  // set, and the sense names something the lexicon knows.
  void AddAbbreviations() {
    // Per source: abbreviation -> sense -> share of uses.
    struct SourceSenses {
      bool weighted = true;  // frequencies given (else: a list of long forms)
      std::map<std::string, std::map<std::string, double>> senses;
    };
    std::vector<SourceSenses> sources;
    for (const auto& [name, table] : *src_.tables) {
      if (name.rfind("abbreviations/", 0) != 0 || table.rows.empty()) continue;
      SourceSenses src;
      const bool headerless = table.rows[0][0] != "abbreviation" && table.rows[0][0] != "abr";
      for (size_t r = headerless ? 0 : 1; r < table.rows.size(); ++r) {
        const auto& row = table.rows[r];
        double f = 1.0;
        std::string abbr, sense;
        if (row.size() >= 5) {  // vanderbilt: abbreviation sense variation CUI frequency
          ParseDouble(row[4], &f);
          abbr = row[0];
          sense = row[1];
        } else if (row.size() == 3) {  // stetson: abbr sense frequency
          ParseDouble(row[2], &f);
          abbr = row[0];
          sense = row[1];
        } else if (row.size() == 2) {  // wikipedia: abr long_form
          abbr = row[0];
          sense = row[1];
          src.weighted = false;
        } else {
          continue;
        }
        abbr = AsciiLower(Trim(abbr));
        PhraseWords sw = PhraseToWords(sense, false);
        if (abbr.size() < 2 || sw.required.empty()) continue;
        std::sort(sw.required.begin(), sw.required.end());
        // Senses that differ only in wording ("CHF" vs "congestive heart
        // failure") count as one.
        src.senses[abbr][Join(sw.required, " ") + "\t" + AsciiLower(Trim(sense))] += f;
      }
      sources.push_back(std::move(src));
    }
    // A sense dominates a source when it has ≥ 90% of the weight (weighted
    // sources) or is the only one (lists). Weighted sources decide where they
    // know the abbreviation; lists are used only otherwise.
    std::map<std::string, std::set<std::string>> dominant_weighted, dominant_listed;
    std::set<std::string> ambiguous;
    for (const SourceSenses& src : sources) {
      for (const auto& [abbr, senses] : src.senses) {
        double total = 0, best = 0;
        std::string best_sense;
        std::set<std::string> keys;
        for (const auto& [sense, f] : senses) {
          keys.insert(sense.substr(0, sense.find('\t')));
          total += f;
          if (f > best) {
            best = f;
            best_sense = sense;
          }
        }
        const bool dominant = src.weighted ? (total > 0 && best / total >= 0.9) : keys.size() == 1;
        if (!dominant) {
          if (src.weighted) ambiguous.insert(abbr);
          continue;
        }
        (src.weighted ? dominant_weighted : dominant_listed)[abbr].insert(best_sense);
      }
    }
    size_t added = 0;
    auto consider = [&](const std::string& abbr, const std::set<std::string>& senses) {
      std::set<std::string> keys;
      for (const std::string& s : senses) keys.insert(s.substr(0, s.find('\t')));
      if (keys.size() != 1) return;  // sources disagree
      if (denied_.contains(AsciiLower(abbr))) return;
      // Two-letter abbreviations are too ambiguous in charts ("TA", "ID",
      // "PE"); the curated table names the few that are not.
      int letters = 0;
      for (char c : abbr) letters += (c >= 'a' && c <= 'z');
      if (letters < 3) return;
      const std::string& sense = *senses.begin();
      std::string text = sense.substr(sense.find('\t') + 1);
      PhraseWords sw = PhraseToWords(text, false);
      if (!CoversAnEntry(sw.required)) return;
      const size_t before = expansions_.size();
      AddExpansion(abbr, text, 1, 0);
      added += expansions_.size() - before;
    };
    for (const auto& [abbr, senses] : dominant_weighted) {
      if (!ambiguous.contains(abbr)) consider(abbr, senses);
    }
    for (const auto& [abbr, senses] : dominant_listed) {
      if (!dominant_weighted.contains(abbr) && !ambiguous.contains(abbr)) consider(abbr, senses);
    }
    abbreviations_added_ = added;
  }

  bool CoversAnEntry(std::vector<std::string> words) {
    std::sort(words.begin(), words.end());
    if (entries_by_word_.empty()) {
      for (size_t i = 0; i < entries_.size(); ++i) {
        entries_by_word_[entries_[i].required[0]].push_back(static_cast<uint32_t>(i));
      }
    }
    for (const std::string& w : words) {
      auto it = entries_by_word_.find(w);
      if (it == entries_by_word_.end()) continue;
      for (uint32_t e : it->second) {
        const auto& req = entries_[e].required;
        if (std::includes(words.begin(), words.end(), req.begin(), req.end())) return true;
      }
    }
    return false;
  }

  void Write(PackWriter* w, std::map<std::string, std::string>* meta) {
    // The title words of every code, in pack order.
    const ParsedTabular& tab = *src_.tabular;
    std::vector<std::vector<std::string>> titles(code_keys_.size());
    for (size_t i = 0; i < tab.codes.size(); ++i) {
      titles[(*src_.code_ids)[i]] = TitleStems(tab.codes[i].description);
    }
    // Dictionary of every word used.
    std::set<std::string> all;
    for (const auto& t : titles) all.insert(t.begin(), t.end());
    for (const Entry& e : entries_) {
      all.insert(e.required.begin(), e.required.end());
      all.insert(e.optional.begin(), e.optional.end());
    }
    for (const Expansion& x : expansions_) {
      all.insert(x.variant.begin(), x.variant.end());
      all.insert(x.expansion.begin(), x.expansion.end());
    }
    all.insert(sense_words_.begin(), sense_words_.end());
    std::vector<std::string> words(all.begin(), all.end());
    absl::flat_hash_map<std::string, uint32_t> id;
    for (size_t i = 0; i < words.size(); ++i) id[words[i]] = static_cast<uint32_t>(i);
    std::vector<uint32_t> df(words.size(), 0);
    for (const Entry& e : entries_) {
      for (const std::string& r : e.required) ++df[id[r]];
    }
    // Entries, anchored at their rarest required word.
    std::vector<LexEntryRecord> recs;
    std::vector<uint32_t> entry_words;
    std::vector<uint8_t> entry_groups;
    std::vector<std::vector<uint32_t>> anchored(words.size());
    StringTableBuilder& s = w->strings();
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      LexEntryRecord r{};
      r.first_word = static_cast<uint32_t>(entry_words.size());
      r.required_count = static_cast<uint8_t>(e.required.size());
      r.optional_count = static_cast<uint8_t>(e.optional.size());
      r.source = static_cast<uint8_t>(e.source);
      r.flags = e.flags;
      r.code = e.code;
      r.code2 = e.code2;
      r.phrase = s.Add(e.phrase);
      uint32_t anchor = id[e.required[0]];
      for (size_t q = 0; q < e.required.size(); ++q) {
        uint32_t wid = id[e.required[q]];
        entry_words.push_back(wid);
        entry_groups.push_back(e.group[q]);
        if (df[wid] < df[anchor] || (df[wid] == df[anchor] && wid < anchor)) anchor = wid;
      }
      for (const std::string& q : e.optional) {
        entry_words.push_back(id[q]);
        entry_groups.push_back(0xFF);
      }
      anchored[anchor].push_back(static_cast<uint32_t>(i));
      recs.push_back(r);
    }
    // Expansions grouped by their first word, longest variant first.
    std::vector<std::vector<uint32_t>> by_first(words.size());
    for (size_t i = 0; i < expansions_.size(); ++i) {
      by_first[id[expansions_[i].variant[0]]].push_back(static_cast<uint32_t>(i));
    }
    std::vector<LexExpansionRecord> xrecs;
    std::vector<uint32_t> xwords;
    std::vector<uint32_t> anchors;
    std::vector<LexWordRecord> wrecs(words.size());
    for (size_t wi = 0; wi < words.size(); ++wi) {
      LexWordRecord& r = wrecs[wi];
      r.word = s.Add(words[wi]);
      r.entry_count = df[wi];
      r.first_anchor = static_cast<uint32_t>(anchors.size());
      r.anchor_count = static_cast<uint32_t>(anchored[wi].size());
      anchors.insert(anchors.end(), anchored[wi].begin(), anchored[wi].end());
      std::vector<uint32_t>& xs = by_first[wi];
      std::stable_sort(xs.begin(), xs.end(), [&](uint32_t a, uint32_t b) {
        return expansions_[a].variant.size() > expansions_[b].variant.size();
      });
      r.first_expansion = static_cast<uint32_t>(xrecs.size());
      r.expansion_count = static_cast<uint32_t>(xs.size());
      for (uint32_t xi : xs) {
        const Expansion& x = expansions_[xi];
        LexExpansionRecord xr{};
        xr.first_variant_word = static_cast<uint32_t>(xwords.size());
        for (const std::string& v : x.variant) xwords.push_back(id[v]);
        xr.first_expansion_word = static_cast<uint32_t>(xwords.size());
        for (const std::string& v : x.expansion) xwords.push_back(id[v]);
        xr.variant_count = static_cast<uint8_t>(x.variant.size());
        xr.expansion_count = static_cast<uint8_t>(x.expansion.size());
        xr.source = x.source;
        xr.flags = x.flags;
        xr.variant = s.Add(x.variant_text);
        xr.expansion = s.Add(x.expansion_text);
        xrecs.push_back(xr);
      }
    }
    std::vector<CodeTitleRange> ranges;
    std::vector<uint32_t> title_words;
    for (const auto& t : titles) {
      std::vector<uint32_t> ids;
      for (const std::string& word : t) ids.push_back(id[word]);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      ranges.push_back({static_cast<uint32_t>(title_words.size()), static_cast<uint32_t>(ids.size())});
      title_words.insert(title_words.end(), ids.begin(), ids.end());
    }
    (*meta)["lexicon.spellings"] = StrCat(WriteForms(words, id, w));
    w->AddArray(SectionId::kCodeTitleRanges, ranges);
    w->AddArray(SectionId::kCodeTitleWords, title_words);
    w->AddArray(SectionId::kLexWords, wrecs);
    w->AddArray(SectionId::kLexEntries, recs);
    w->AddArray(SectionId::kLexEntryWords, entry_words);
    w->AddArray(SectionId::kLexEntryGroups, entry_groups);
    w->AddArray(SectionId::kLexAnchors, anchors);
    w->AddArray(SectionId::kLexExpansions, xrecs);
    w->AddArray(SectionId::kLexExpansionWords, xwords);
    size_t by_source[6] = {0, 0, 0, 0, 0, 0};
    for (const Entry& e : entries_) ++by_source[static_cast<int>(e.source)];
    (*meta)["lexicon.words"] = StrCat(words.size());
    (*meta)["lexicon.entries"] = StrCat(entries_.size());
    (*meta)["lexicon.entries.curated"] = StrCat(by_source[0]);
    (*meta)["lexicon.entries.index"] = StrCat(by_source[1] + by_source[5]);
    (*meta)["lexicon.entries.description"] = StrCat(by_source[2]);
    (*meta)["lexicon.entries.inclusion"] = StrCat(by_source[3]);
    (*meta)["lexicon.entries.neoplasm"] = StrCat(by_source[4]);
    (*meta)["lexicon.entries.excluded"] = StrCat(excluded_);
    (*meta)["lexicon.entries.stoplisted"] = StrCat(stopped_);
    (*meta)["lexicon.expansions"] = StrCat(expansions_.size());
    (*meta)["lexicon.expansions.abbreviations"] = StrCat(abbreviations_added_);
  }

  // The spellings table (kLexForms, kLexFormSlots): every word of ASCII
  // letters in the pack's text so far (titles, notes, index terms, tables)
  // and every lexicon word of letters, lower-cased, with the word ids a chart
  // word of that spelling normalizes to (what ChartWords would compute).
  // Returns the number of spellings.
  static size_t WriteForms(const std::vector<std::string>& words,
                         const absl::flat_hash_map<std::string, uint32_t>& id, PackWriter* w) {
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    std::set<std::string> spellings;
    const std::string& blob = w->strings().blob();
    for (size_t i = 0; i < blob.size();) {
      if (!letter(blob[i])) {
        ++i;
        continue;
      }
      const size_t begin = i;
      while (i < blob.size() && letter(blob[i])) ++i;
      if (i - begin <= kMaxFormLength) spellings.insert(AsciiLower(blob.substr(begin, i - begin)));
    }
    for (const std::string& word : words) {
      if (!word.empty() && word.size() <= kMaxFormLength &&
          std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        spellings.insert(word);
      }
    }
    auto id_of = [&](const std::string& word) {
      auto it = id.find(word);
      return it == id.end() ? kNone : it->second;
    };
    std::vector<LexFormRecord> forms;
    forms.reserve(spellings.size());
    for (const std::string& form : spellings) {
      const std::string stem = NormalizeLowerCaseLetters(form);
      LexFormRecord r{};
      r.id = id_of(stem);
      r.raw_id = form == stem ? r.id : id_of(form);
      r.flags = IsLexiconStopWord(stem) ? kLexFormStop : 0;
      forms.push_back(r);
    }
    // Strings added after the scan (adding grows the blob); slots filled in
    // the records' order, so two builds agree byte for byte.
    size_t size = 1;
    while (size < 2 * forms.size()) size *= 2;
    std::vector<uint32_t> slots(size, kNone);
    uint32_t f = 0;
    for (const std::string& form : spellings) {
      forms[f].form = w->strings().Add(form);
      size_t slot = LexFormHash(form) & (size - 1);
      while (slots[slot] != kNone) slot = (slot + 1) & (size - 1);
      slots[slot] = f++;
    }
    w->AddArray(SectionId::kLexForms, forms);
    w->AddArray(SectionId::kLexFormSlots, slots);
    return forms.size();
  }
  static constexpr size_t kMaxFormLength = 40;

  struct Expansion {
    std::vector<std::string> variant;
    std::vector<std::string> expansion;
    uint8_t source = 0;
    uint8_t flags = 0;
    std::string variant_text;
    std::string expansion_text;
  };

  const LexiconSources& src_;
  std::vector<std::string> code_keys_;
  std::vector<std::string> excluded_prefixes_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::string, size_t> seen_;
  int residual_depth_ = 0;  // WalkIndex: how many residual subterms above
  std::vector<Expansion> expansions_;
  absl::flat_hash_set<std::string> expansion_seen_;
  bool in_see_walk_ = false;  // WalkIndex is below a "see" target's children
  std::set<std::string> sense_words_;
  absl::flat_hash_map<std::string, std::vector<uint32_t>> entries_by_word_;
  absl::flat_hash_map<std::string, const ParsedTerm*> main_by_title_;
  absl::flat_hash_map<std::string, std::vector<const ParsedTerm*>> main_by_first_;
  const ParsedTerm* current_main_ = nullptr;  // the main term WalkIndex is in
  absl::flat_hash_set<std::string> denied_;
  absl::flat_hash_set<std::string> stoplist_;
  size_t stopped_ = 0;
  size_t excluded_ = 0;
  size_t abbreviations_added_ = 0;
};

}  // namespace

absl::Status BuildLexicon(const LexiconSources& sources, PackWriter* writer,
                          std::map<std::string, std::string>* meta) {
  return LexiconCompiler(sources).Run(writer, meta);
}

}  // namespace chartcoder::internal
