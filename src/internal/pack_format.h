// On-disk layout of the chartcoder data pack (.ccpack).
//
// A pack is one little-endian file, memory-mapped read-only at start-up:
//
//   PackHeader (64 bytes)
//   SectionEntry[section_count]
//   sections, each starting at an 8-byte aligned offset
//
// A section is either a blob (record_size 0) or an array of fixed-size records.
// Strings live in the kStrings blob and are referenced by StrRef. The header
// carries an XXH3-64 hash of every byte after the header, so a flipped bit or
// a truncated file is caught before any record is read; consumers then check
// every reference of the sections they use (see CodeSet::Create), so a pack
// that hashes correctly but was written by a buggy builder still cannot make
// the reader touch memory outside the mapping.
//
// Bump kPackFormatVersion whenever a record layout or section meaning changes.
#ifndef CHARTCODER_SRC_INTERNAL_PACK_FORMAT_H_
#define CHARTCODER_SRC_INTERNAL_PACK_FORMAT_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace chartcoder::internal {

inline constexpr char kPackMagic[8] = {'\x89', 'C', 'C', 'P', 'A', 'C', 'K', '\n'};
inline constexpr uint32_t kPackFormatVersion = 4;
inline constexpr uint32_t kPackEndianMarker = 0x01020304;
inline constexpr uint32_t kNone = 0xFFFFFFFFu;

struct PackHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t endian_marker;
  uint64_t file_size;
  uint64_t payload_hash;  // XXH3_64bits of bytes [sizeof(PackHeader), file_size)
  uint32_t section_count;
  uint32_t reserved0;
  uint64_t reserved[3];
};
static_assert(sizeof(PackHeader) == 64);

enum class SectionId : uint32_t {
  kStrings = 1,         // blob of UTF-8 text
  kMeta = 2,            // MetaRecord[]: key/value facts (fiscal year, model versions...)
  kChapters = 3,        // ChapterRecord[]
  kBlocks = 4,          // BlockRecord[] (tabular "sections" such as A00-A09)
  kCodes = 5,           // CodeRecord[], sorted by undotted code
  kCodeChildren = 6,    // uint32_t[]: direct children lists of kCodes
  kNotes = 7,           // NoteRecord[]
  kNoteRefs = 8,        // CodeRangeRecord[]: codes named inside notes
  kIndexTerms = 9,      // IndexTermRecord[]: Alphabetic Index to Diseases
  kNeoplasmTerms = 10,  // IndexTermRecord[]: Table of Neoplasms
  kIndexCells = 11,     // StrRef[]: table cells (neoplasm columns)
  kSearchDocs = 12,     // SearchDocRecord[]
  kSearchWords = 13,    // SearchWordRecord[], sorted by word
  kSearchPostings = 14, // uint32_t[]: doc ids per word, ascending
  kTables = 15,         // TableRecord[]: CSV/TSV tables (HCC model, abbreviations, curated)
  kTableCells = 16,     // StrRef[]: row-major cells of kTables
  kLexWords = 17,       // LexWordRecord[], sorted by word; a word's id is its index
  kLexEntries = 18,     // LexEntryRecord[]: phrases that name a code
  kLexEntryWords = 19,  // uint32_t[]: word ids of entries (required, then optional)
  kLexAnchors = 20,     // uint32_t[]: entry ids grouped by anchor word
  kLexExpansions = 21,  // LexExpansionRecord[]: abbreviation/synonym rewrites
  kLexExpansionWords = 22,  // uint32_t[]: word ids of variants and expansions
  kLexEntryGroups = 23, // uint8_t[], parallel to kLexEntryWords: group of a required word
  kCodeTitleRanges = 24,  // CodeTitleRange[], one per code of kCodes
  kCodeTitleWords = 25,   // uint32_t[]: lexicon word ids of code titles (TitleStems), sorted
  kLexForms = 26,       // LexFormRecord[], sorted by form: spellings with their word ids
  kLexFormSlots = 27,   // uint32_t[]: hash table over kLexForms (LexFormHash), kNone = empty
};

struct SectionEntry {
  uint32_t id;           // SectionId
  uint32_t record_size;  // bytes per record; 0 for a blob
  uint64_t offset;       // from the start of the file; multiple of 8
  uint64_t size;         // bytes; multiple of record_size
};
static_assert(sizeof(SectionEntry) == 24);

struct StrRef {
  uint32_t offset;  // into kStrings
  uint32_t length;
};
static_assert(sizeof(StrRef) == 8);

struct MetaRecord {
  StrRef key;
  StrRef value;
};

struct ChapterRecord {
  StrRef name;         // "1".."22"
  StrRef description;  // "Certain infectious and parasitic diseases (A00-B99)"
  uint32_t first_note;  // index into kNotes
  uint32_t note_count;
};

struct BlockRecord {
  StrRef id;           // "A00-A09" or "B10"
  StrRef description;  // "Intestinal infectious diseases"
  uint32_t chapter;    // index into kChapters
  uint32_t first_note;  // index into kNotes
  uint32_t note_count;
  uint32_t reserved;
};

// CodeRecord::flags
inline constexpr uint8_t kCodeBillable = 1 << 0;
inline constexpr uint8_t kCodeSeventhExpansion = 1 << 1;  // made from a sevenChrDef
inline constexpr uint8_t kCodeRequiresSeventh = 1 << 2;   // a sevenChrDef applies below

struct CodeRecord {
  StrRef code;         // dotted, upper case: "E11.9", "S72.001A"
  StrRef key;          // undotted: "E119"; the sort key of kCodes
  StrRef description;
  uint32_t parent;     // index into kCodes, kNone for a category
  uint32_t first_child;  // index into kCodeChildren
  uint32_t child_count;
  uint32_t descendant_count;  // descendants are kCodes[i+1, i+1+descendant_count)
  uint32_t first_note;  // index into kNotes
  uint32_t note_count;
  uint32_t block;       // index into kBlocks
  uint8_t flags;
  uint8_t depth;        // 0 for a 3-character category
  uint8_t reserved[2];
};
static_assert(sizeof(CodeRecord) == 56);

struct NoteRecord {
  StrRef text;
  uint32_t first_ref;  // index into kNoteRefs
  uint32_t ref_count;
  uint8_t kind;        // chartcoder::NoteKind
  uint8_t reserved[7];
};
static_assert(sizeof(NoteRecord) == 24);

// A code or range named in a note: "E08.-" (first only), "I10-I16".
struct CodeRangeRecord {
  StrRef first;
  StrRef last;  // empty for a single code or category
};

struct IndexTermRecord {
  StrRef title;      // without non-essential modifiers
  StrRef nemod;      // non-essential modifiers as printed: "(chronic) (congestive)"
  StrRef code;       // may be empty, or end in "-" where more characters are needed
  StrRef manif;      // manifestation code, printed in brackets in the book
  StrRef see;
  StrRef see_also;
  StrRef see_category;  // seecat / subcat
  uint32_t parent;      // kNone for a main term
  uint32_t first_child;  // children are contiguous: [first_child, first_child+child_count)
  uint32_t child_count;
  uint32_t first_cell;   // index into kIndexCells
  uint32_t cell_count;
  uint8_t level;         // 0 for a main term
  uint8_t reserved[3];
};
static_assert(sizeof(IndexTermRecord) == 80);

// Where a search document comes from.
enum class DocSource : uint8_t {
  kDescription = 0,
  kInclusionTerm = 1,
  kIndex = 2,
};

struct SearchDocRecord {
  StrRef text;
  uint32_t code;      // index into kCodes
  uint16_t word_count;
  uint8_t source;     // DocSource
  uint8_t reserved;
};
static_assert(sizeof(SearchDocRecord) == 16);

struct SearchWordRecord {
  StrRef word;
  uint32_t first_posting;
  uint32_t posting_count;
};

struct TableRecord {
  StrRef name;       // "hcc/ra_dx_to_cc", "abbreviations/vanderbilt_clinic_notes"
  uint32_t column_count;
  uint32_t row_count;   // data rows, not counting the header
  uint32_t first_cell;  // header cells, then rows, row-major
  uint32_t flags;       // kTable* bits
};

inline constexpr uint32_t kTableSortedByFirstColumn = 1 << 0;

// The clinical lexicon (see src/internal/lexicon.h). Words are normalized by
// LexiconWords() (lexicon_words.h) on both sides.
struct LexWordRecord {
  StrRef word;
  uint32_t entry_count;      // entries that contain the word (its document frequency)
  uint32_t first_anchor;     // into kLexAnchors: entries whose rarest word this is
  uint32_t anchor_count;
  uint32_t first_expansion;  // into kLexExpansions: variants starting with this word
  uint32_t expansion_count;  // longest variant first
  uint32_t reserved;
};
static_assert(sizeof(LexWordRecord) == 32);

// Where a lexicon entry comes from, in order of trust.
enum class LexSource : uint8_t {
  kCurated = 0,      // chartcoder's synonym table (a phrase that names a code)
  kIndex = 1,        // Alphabetic Index path (main term and subterms)
  kDescription = 2,  // tabular title
  kInclusion = 3,    // tabular inclusion term
  kNeoplasm = 4,     // Table of Neoplasms site and column
  kIndexSee = 5,     // an index term resolved through its "see" reference
};

// LexEntryRecord::flags
inline constexpr uint8_t kLexIncompleteCode = 1 << 0;  // target ends in "-": more characters needed
// The entry's one word is an acronym the index writes in capitals ("AIDS",
// "PRES", "POTS"): its stem is an everyday word ("aid", "pre", "pot"), so the
// chart must write it in capitals too.
inline constexpr uint8_t kLexAcronym = 1 << 1;
// The entry is an index path through a "without ..." subterm ("Migraine,
// without aura"): its words after the "without" must be negated in the chart
// ("migraine without aura", "migraine, no aura"). The matcher tries such
// entries only across a chart's "without", "w/o" or "no".
inline constexpr uint8_t kLexWithout = 1 << 2;
// The entry names an infectious agent "as the cause of diseases classified
// elsewhere" (B95-B97: "E. coli", "MRSA"). The organism names no condition of
// its own (the coder codes it only beside one), so its match hides no other
// ("MRSA carrier" stays a match beside "MRSA").
inline constexpr uint8_t kLexAgent = 1 << 3;
// kLexEntryGroups of a kLexWithout entry: a required word's group with this
// bit set is a word of the "without ..." subterm, which the chart must write
// after its "without"; with kLexGroupBelowWithout, a word of a subterm below
// it, which may stand on either side; with neither, a word of the terms above
// it, which must come before. (0xFF marks an optional word.)
inline constexpr uint8_t kLexGroupWithout = 0x80;
inline constexpr uint8_t kLexGroupBelowWithout = 0x40;

struct LexEntryRecord {
  uint32_t first_word;      // into kLexEntryWords
  uint8_t required_count;   // words that must all be present
  uint8_t optional_count;   // non-essential modifiers: a bonus when present
  uint8_t source;           // LexSource
  uint8_t flags;
  uint32_t code;            // into kCodes: the code named (kNone if unresolved)
  uint32_t code2;           // into kCodes: a paired manifestation code, or kNone
  StrRef phrase;            // what the entry says, for evidence ("Failure, failed > heart")
};
static_assert(sizeof(LexEntryRecord) == 24);

// The words of a code's title (TitleStems in lexicon_words.h), as sorted
// unique lexicon word ids: what the coder compares with a chart's words.
struct CodeTitleRange {
  uint32_t first;  // into kCodeTitleWords
  uint32_t count;
};

struct LexExpansionRecord {
  uint32_t first_variant_word;    // into kLexExpansionWords
  uint32_t first_expansion_word;  // into kLexExpansionWords
  uint8_t variant_count;
  uint8_t expansion_count;
  uint8_t source;                 // 0 curated synonym, 1 abbreviation inventory
  uint8_t flags;                  // kExpansion* bits
  StrRef variant;                 // as written in the source ("CKD 3b")
  StrRef expansion;               // "chronic kidney disease stage 3b"
};
static_assert(sizeof(LexExpansionRecord) == 28);

// The variant's words are raw lower-cased forms (not stems), and the chart
// must write every one of them in capitals: abbreviations from the
// inventories ("RA", "DI", "HA") must not fire on ordinary words ("has",
// "died").
inline constexpr uint8_t kExpansionRawUpper = 1 << 0;
// The variant's words are raw lower-cased forms, any case in the chart:
// short curated variants ("mets" must not match "met", "doe" not "does").
inline constexpr uint8_t kExpansionRaw = 1 << 1;
// The variant names nothing: its words are taken out of matching ("flu shot"
// is not influenza, "GAD-7" is a questionnaire). No expansion words.
inline constexpr uint8_t kExpansionBlock = 1 << 2;
// The expansion's words only help compare a clause with code titles (a "leg"
// is a "lower limb" to a title), and take no part in matching entries: there
// "leg" plus its "lower" would make a "lower leg".
inline constexpr uint8_t kExpansionTitlesOnly = 1 << 3;

// A spelling of a word (ASCII lower-case letters) with what a chart word
// written so normalizes to, so a chart's known words need no stemming: `id`
// is the lexicon word id of NormalizeLowerCaseLetters(form) and `raw_id` that
// of the form itself (kNone when not a lexicon word). The spellings are the
// words of the pack's text (code titles, notes, index terms, tables) and the
// lexicon's own words.
struct LexFormRecord {
  StrRef form;
  uint32_t id;
  uint32_t raw_id;
  uint32_t flags;  // kLexForm* bits
};
static_assert(sizeof(LexFormRecord) == 20);

// LexFormRecord::flags: the normalized form is a stop word (IsLexiconStopWord).
inline constexpr uint32_t kLexFormStop = 1 << 0;

// The hash of a spelling for kLexFormSlots: a power-of-two table probed
// linearly from slot LexFormHash(form) & (size - 1). Part of the format: the
// builder and the reader must agree, so it is fixed here (not Abseil's
// per-process seeded hash).
inline uint64_t LexFormHash(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < s.size(); ++k) {
    tail |= uint64_t{static_cast<unsigned char>(s[i + k])} << (8 * k);
  }
  h = (h ^ tail) * 0x94D049BB133111EBull;
  return h ^ (h >> 32);
}

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_PACK_FORMAT_H_
