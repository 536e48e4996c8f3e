// Tests of building data packs and of loading broken ones.
#include <cstring>
#include <filesystem>
#include <string>

#include "chartcoder/codeset.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/csv.h"
#include "src/internal/icd10cm_xml.h"
#include "src/internal/pack_format.h"
#include "src/internal/pack_reader.h"
#include "src/internal/search_words.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::WriteFileOrDie;

std::string MiniSource() { return testing::SourceDir() + "/tests/data/minisource"; }

// A copy of the mini source tree that a test may damage.
std::string CopyMiniSource(const TempDir& dir) {
  const std::string dst = dir.File("src");
  fs::copy(MiniSource(), dst, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(dst)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  return dst;
}

absl::StatusOr<std::unique_ptr<CodeSet>> Load(const std::string& path, bool verify = true) {
  CodeSetOptions o;
  o.data_pack = path;
  o.verify_checksum = verify;
  return CodeSet::Create(o);
}

TEST(PackBuildTest, AnotherYearsFilesWorkTheSame) {
  TempDir dir;
  const std::string pack = dir.File("mini.ccpack");
  ASSERT_TRUE(BuildDataPack({MiniSource(), "", {}}, pack).ok());
  absl::StatusOr<std::unique_ptr<CodeSet>> s = Load(pack);
  ASSERT_TRUE(s.ok()) << s.status();
  const CodeSet& codes = **s;
  EXPECT_EQ(codes.info().icd10cm_fiscal_year, 2030);
  EXPECT_EQ(codes.info().hcc_payment_year, 2030);
  EXPECT_THAT(codes.info().hcc_models, ElementsAre("CMS-HCC Model V24", "CMS-HCC Model V28"));
  EXPECT_TRUE(codes.IsBillable("E11.22"));
  EXPECT_FALSE(codes.IsBillable("E11.2"));
  EXPECT_TRUE(codes.IsBillable("S72.001A"));
  EXPECT_TRUE(codes.IsBillable("S72.001D"));
  EXPECT_TRUE(codes.IsBillable("S72.9XXA"));
  EXPECT_FALSE(codes.IsBillable("S72.9"));
  EXPECT_EQ(codes.info().billable_code_count, 2u + 2u + 2u);
  std::optional<IndexTerm> t = codes.LookupIndex({"diabetes", "type 2", "with", "chronic kidney disease"});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->code(), "E11.22");
  std::vector<HccCategory> h = codes.HccCategories("E11.22");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].hcc, "HCC18");
  EXPECT_EQ(h[0].label, "Diabetes with Chronic Complications");
  std::vector<Note> notes = codes.Find("E11.22")->NotesInEffect(NoteKind::kUseAdditionalCode);
  ASSERT_EQ(notes.size(), 2u);  // its own, then E11's
  EXPECT_EQ(notes[0].refs[0].first, "N18.1");
  EXPECT_EQ(notes[0].refs[0].last, "N18.6");
  absl::StatusOr<ReferenceTable> abbr = codes.Table("abbreviations/mini_sense_distribution");
  ASSERT_TRUE(abbr.ok());
  EXPECT_EQ(abbr->row_count(), 2u);
}

TEST(PackBuildTest, CuratedTablesSkipCommentLines) {
  TempDir dir;
  fs::create_directories(dir.File("curated"));
  WriteFileOrDie(dir.File("curated/synonyms.tsv"),
                 "# chartcoder's own table\nterm\tcode\n# a comment\ndm2\tE11.9\n");
  ASSERT_TRUE(BuildDataPack({MiniSource(), dir.File("curated"), {}}, dir.File("p.ccpack")).ok());
  auto s = Load(dir.File("p.ccpack"));
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<ReferenceTable> t = (*s)->Table("curated/synonyms");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->column_name(1), "code");
  ASSERT_EQ(t->row_count(), 1u);
  EXPECT_EQ(t->cell(0, 0), "dm2");
}

TEST(PackBuildTest, AMalformedAbbreviationSenseNamesItsLine) {
  TempDir dir;
  fs::create_directories(dir.File("curated"));
  WriteFileOrDie(dir.File("curated/abbreviation_senses.tsv"),
                 "abbreviation\tsense\tcues\n# rows\nRA\t~\tsat spo2\nPE\tpulmonary embolism\n");
  absl::Status s = BuildDataPack({MiniSource(), dir.File("curated"), {}}, dir.File("p.ccpack"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("abbreviation_senses.tsv:4"));
  WriteFileOrDie(dir.File("curated/abbreviation_senses.tsv"),
                 "abbreviation\tsense\tcues\nRA\t~\tsat spo2\nP E\tpulmonary embolism\tdvt\n");
  s = BuildDataPack({MiniSource(), dir.File("curated"), {}}, dir.File("p.ccpack"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("abbreviation_senses line 3: the abbreviation must be one word"));
  EXPECT_FALSE(fs::exists(dir.File("p.ccpack")));
}

TEST(PackBuildTest, MissingSourcesAreNotFound) {
  TempDir dir;
  EXPECT_EQ(BuildDataPack({dir.File("none"), "", {}}, dir.File("p")).code(),
            absl::StatusCode::kNotFound);
  const std::string src = CopyMiniSource(dir);
  fs::remove(src + "/hcc/ra_coefficients_2030.csv");
  absl::Status s = BuildDataPack({src, "", {}}, dir.File("p"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ra_coefficients"));
  fs::remove(src + "/icd10cm/icd10cm_index_2030.xml");
  s = BuildDataPack({src, "", {}}, dir.File("p"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("alphabetic index"));
  EXPECT_FALSE(fs::exists(dir.File("p")));
}

TEST(PackBuildTest, MalformedSourcesNameFileAndLine) {
  TempDir dir;
  const std::string src = CopyMiniSource(dir);
  const std::string tab = src + "/icd10cm/icd10cm_tabular_2030.xml";
  std::string xml = ReadFileOrDie(tab);
  xml.replace(xml.find("</desc>"), 7, "</dsec>");
  WriteFileOrDie(tab, xml);
  absl::Status s = BuildDataPack({src, "", {}}, dir.File("p"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("icd10cm_tabular_2030.xml:7"));

  const std::string src2 = dir.File("src2");
  fs::copy(MiniSource(), src2, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(src2)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  WriteFileOrDie(src2 + "/hcc/ra_labels_2030.csv", "cc,label,model_domain\nHCC1,x\n");
  s = BuildDataPack({src2, "", {}}, dir.File("p"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ra_labels_2030.csv:2"));
}

TEST(PackBuildTest, MixedPaymentYearsAreRefused) {
  TempDir dir;
  const std::string src = CopyMiniSource(dir);
  fs::rename(src + "/hcc/ra_labels_2030.csv", src + "/hcc/ra_labels_2029.csv");
  absl::Status s = BuildDataPack({src, "", {}}, dir.File("p"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PackBuildTest, NewestYearOfATableWins) {
  TempDir dir;
  const std::string src = CopyMiniSource(dir);
  WriteFileOrDie(src + "/hcc/ra_labels_2029.csv", "cc,label\nHCC1,old\n");
  ASSERT_TRUE(BuildDataPack({src, "", {}}, dir.File("p")).ok());
  auto s = Load(dir.File("p"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Table("hcc/ra_labels")->row_count(), 4u);
}

class BrokenPackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pack_ = dir_.File("good.ccpack");
    ASSERT_TRUE(BuildDataPack({MiniSource(), "", {}}, pack_).ok());
    bytes_ = ReadFileOrDie(pack_);
    ASSERT_GT(bytes_.size(), sizeof(internal::PackHeader));
  }
  absl::Status LoadBytes(const std::string& bytes, bool verify = true) {
    const std::string p = dir_.File("bad.ccpack");
    WriteFileOrDie(p, bytes);
    return Load(p, verify).status();
  }
  TempDir dir_;
  std::string pack_;
  std::string bytes_;
};

TEST_F(BrokenPackTest, EmptyFile) {
  absl::Status s = LoadBytes("");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("empty"));
}

TEST_F(BrokenPackTest, NotAPack) {
  EXPECT_EQ(LoadBytes("<?xml version=\"1.0\"?><x/>").code(), absl::StatusCode::kDataLoss);
}

TEST_F(BrokenPackTest, Truncated) {
  for (size_t n : {size_t{8}, size_t{63}, size_t{64}, bytes_.size() / 2, bytes_.size() - 1}) {
    absl::Status s = LoadBytes(bytes_.substr(0, n));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n;
  }
}

TEST_F(BrokenPackTest, AppendedBytes) {
  EXPECT_EQ(LoadBytes(bytes_ + "x").code(), absl::StatusCode::kDataLoss);
}

TEST_F(BrokenPackTest, FlippedBitAnywhereAfterTheHeader) {
  for (size_t pos : {size_t{64}, size_t{100}, bytes_.size() / 3, bytes_.size() - 1}) {
    std::string b = bytes_;
    b[pos] ^= 0x10;
    absl::Status s = LoadBytes(b);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << pos;
    EXPECT_THAT(std::string(s.message()), HasSubstr("corrupted"));
  }
}

TEST_F(BrokenPackTest, OtherFormatVersion) {
  std::string b = bytes_;
  uint32_t v = internal::kPackFormatVersion + 1;
  std::memcpy(b.data() + offsetof(internal::PackHeader, format_version), &v, sizeof(v));
  absl::Status s = LoadBytes(b);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("format version"));
}

TEST_F(BrokenPackTest, BadReferencesCaughtWithoutTheHash) {
  // Point the first section outside the file; with the hash off, the
  // structural checks must still refuse it.
  std::string b = bytes_;
  internal::SectionEntry e;
  const size_t at = sizeof(internal::PackHeader);
  std::memcpy(&e, b.data() + at, sizeof(e));
  e.offset = b.size() + 8;
  std::memcpy(b.data() + at, &e, sizeof(e));
  EXPECT_EQ(LoadBytes(b, /*verify=*/false).code(), absl::StatusCode::kDataLoss);
  // Corrupt a code record's parent index.
  internal::PackHeader h;
  std::memcpy(&h, bytes_.data(), sizeof(h));
  size_t code_section = 0;
  for (uint32_t k = 0; k < h.section_count; ++k) {
    internal::SectionEntry entry;
    std::memcpy(&entry, bytes_.data() + at + k * sizeof(entry), sizeof(entry));
    if (entry.id == static_cast<uint32_t>(internal::SectionId::kCodes)) code_section = entry.offset;
  }
  ASSERT_GT(code_section, 0u);
  std::string c = bytes_;
  uint32_t huge = 0x7FFFFFFF;
  std::memcpy(c.data() + code_section + sizeof(internal::CodeRecord) +
                  offsetof(internal::CodeRecord, parent),
              &huge, sizeof(huge));
  absl::Status s = LoadBytes(c, /*verify=*/false);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("code record 1"));
}

TEST(CsvTest, QuotesCrlfAndBlankLines) {
  auto t = internal::ParseDelimited("a,b\r\n\"x, \"\"y\"\"\",2\r\n\r\nlast,\n", ',', "t.csv");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_THAT(t->rows[1], ElementsAre("x, \"y\"", "2"));
  EXPECT_THAT(t->rows[2], ElementsAre("last", ""));
  EXPECT_EQ(t->line_numbers[2], 4);
  auto bad = internal::ParseDelimited("a,b\n\"open,2\n", ',', "t.csv");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("t.csv:2"));
  auto tsv = internal::ParseDelimited("a\t\"b\"\n", '\t', "t.tsv");
  ASSERT_TRUE(tsv.ok());
  EXPECT_THAT(tsv->rows[0], ElementsAre("a", "\"b\""));
}

TEST(CodeRefsTest, FindsCodesAndRanges) {
  using R = std::pair<std::string, std::string>;
  EXPECT_THAT(internal::ExtractCodeRefs("diabetes mellitus due to underlying condition (E08.-)"),
              ElementsAre(R{"E08.-", ""}));
  EXPECT_THAT(internal::ExtractCodeRefs("hypertensive disease (I10-I16) and (E87.70)"),
              ElementsAre(R{"I10", "I16"}, R{"E87.70", ""}));
  EXPECT_THAT(internal::ExtractCodeRefs("stage (N18.1-N18.6); long-term insulin (Z79.4)"),
              ElementsAre(R{"N18.1", "N18.6"}, R{"Z79.4", ""}));
  EXPECT_THAT(internal::ExtractCodeRefs("COVID-19 (U07.1), T2DM, B12 deficiency"),
              ElementsAre(R{"U07.1", ""}, R{"B12", ""}));
  EXPECT_THAT(internal::ExtractCodeRefs("fracture (S72.0-)"), ElementsAre(R{"S72.0-", ""}));
}

TEST(SearchWordsTest, NormalizesAndStems) {
  std::vector<std::string> w;
  internal::SearchWords("Chronic kidney diseases, Stage 3 (of the) arteries; glasses NOS", &w);
  EXPECT_THAT(w, ElementsAre("chronic", "kidney", "disease", "stage", "3", "artery", "glass"));
  EXPECT_EQ(internal::StemWord("diabetes"), "diabete");
  EXPECT_EQ(internal::StemWord("virus"), "virus");
  EXPECT_EQ(internal::StemWord("pneumonitis"), "pneumonitis");
}

}  // namespace
}  // namespace chartcoder
