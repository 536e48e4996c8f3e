// Tests of the code set loaded from the full data pack built with the tree.
#include "chartcoder/codeset.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::TestCodeSet;

std::set<std::string> CodesOf(const std::vector<Code>& codes) {
  std::set<std::string> out;
  for (const Code& c : codes) out.emplace(c.code());
  return out;
}

TEST(CodeSetTest, InfoComesFromTheFiles) {
  const DataPackInfo& info = TestCodeSet().info();
  EXPECT_EQ(info.icd10cm_fiscal_year, 2023);
  EXPECT_EQ(info.icd10cm_index_year, 2023);
  EXPECT_EQ(info.hcc_payment_year, 2026);
  EXPECT_THAT(info.hcc_models, Contains("CMS-HCC Model V24"));
  EXPECT_THAT(info.hcc_models, Contains("CMS-HCC Model V28"));
  // 45,869 <diag> elements in the FY2023 tabular list, plus 7th-character
  // expansions; 73,715 billable codes by the leaf/expansion rule.
  EXPECT_EQ(info.billable_code_count, 73715u);
  EXPECT_GT(info.code_count, 45869u);
  EXPECT_EQ(info.index_term_count, 8060u + 72058u);
  EXPECT_GT(info.neoplasm_term_count, 1900u);
}

TEST(CodeSetTest, FindAcceptsDottedUndottedAnyCase) {
  const CodeSet& s = TestCodeSet();
  for (const char* q : {"E11.9", "E119", "e11.9", "e119", " E11.9 "}) {
    std::optional<Code> c = s.Find(q);
    ASSERT_TRUE(c.has_value()) << q;
    EXPECT_EQ(c->code(), "E11.9");
    EXPECT_EQ(c->key(), "E119");
    EXPECT_EQ(c->description(), "Type 2 diabetes mellitus without complications");
    EXPECT_TRUE(c->billable());
  }
  EXPECT_FALSE(s.Find("E11.99").has_value());
  EXPECT_FALSE(s.Find("").has_value());
  EXPECT_FALSE(s.Find("E11;9").has_value());
  EXPECT_FALSE(s.Find("not a code at all").has_value());
}

TEST(CodeSetTest, BillableIsLeafOrSeventhCharacterExpansion) {
  const CodeSet& s = TestCodeSet();
  EXPECT_FALSE(s.IsBillable("E11"));      // category with children
  EXPECT_FALSE(s.IsBillable("I50.2"));    // subcategory with children
  EXPECT_TRUE(s.IsBillable("I50.22"));
  EXPECT_TRUE(s.IsBillable("I10"));       // a category that is a leaf
  EXPECT_FALSE(s.IsBillable("S72.001"));  // needs a 7th character
  EXPECT_TRUE(s.IsBillable("S72.001A"));
  EXPECT_TRUE(s.IsBillable("S02.0XXA"));  // padded with X placeholders
  EXPECT_FALSE(s.IsBillable("S02.0"));
  EXPECT_FALSE(s.IsBillable("XYZ"));
  std::optional<Code> c = s.Find("S72.001");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->requires_seventh_character());
  EXPECT_THAT(CodesOf(c->children()), Contains("S72.001A"));
  std::optional<Code> a = s.Find("S72.001A");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_seventh_character_expansion());
  EXPECT_EQ(a->description(),
            "Fracture of unspecified part of neck of right femur, initial encounter for closed "
            "fracture");
  EXPECT_EQ(a->parent()->code(), "S72.001");
}

TEST(CodeSetTest, HierarchyAndChapters) {
  const CodeSet& s = TestCodeSet();
  std::optional<Code> i50 = s.Find("I50");
  ASSERT_TRUE(i50);
  EXPECT_FALSE(i50->parent().has_value());
  EXPECT_EQ(i50->depth(), 0);
  EXPECT_THAT(CodesOf(i50->children()),
              ::testing::UnorderedElementsAre("I50.1", "I50.2", "I50.3", "I50.4", "I50.8",
                                              "I50.9"));
  std::set<std::string> below = CodesOf(i50->descendants());
  EXPECT_EQ(below.size(), i50->descendant_count());
  EXPECT_THAT(below, Contains("I50.22"));
  EXPECT_THAT(below, Contains("I50.814"));
  EXPECT_TRUE(i50->Contains(*s.Find("I50.22")));
  EXPECT_FALSE(i50->Contains(*s.Find("I51.9")));
  std::optional<Code> c = s.Find("I50.22");
  EXPECT_EQ(c->parent()->code(), "I50.2");
  EXPECT_EQ(c->depth(), 2);
  EXPECT_EQ(c->chapter(), "9");
  EXPECT_THAT(c->chapter_description(), HasSubstr("circulatory system"));
  EXPECT_EQ(c->block(), "I30-I5A");
  // A header whose children do not extend its code (H54.511 > H54.512A).
  std::optional<Code> h = s.Find("H54.511");
  ASSERT_TRUE(h);
  EXPECT_THAT(CodesOf(h->children()), ::testing::UnorderedElementsAre("H54.511A", "H54.512A"));
  EXPECT_EQ(s.Categories().size(), 1914u);
}

// NotesInEffect into a vector that is reused from code to code (as the
// coder does) gives what the returning form gives, whatever the vector held.
TEST(CodeSetTest, NotesInEffectIntoAReusedVector) {
  const CodeSet& s = TestCodeSet();
  auto same = [](const std::vector<Note>& a, const std::vector<Note>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].kind != b[i].kind || a[i].text != b[i].text ||
          a[i].refs.size() != b[i].refs.size()) {
        return false;
      }
      for (size_t k = 0; k < a[i].refs.size(); ++k) {
        if (a[i].refs[k].first != b[i].refs[k].first || a[i].refs[k].last != b[i].refs[k].last) {
          return false;
        }
      }
    }
    return true;
  };
  std::vector<Note> reused(3, Note{NoteKind::kInclusionTerm, "stale", {{"A00", "B99"}}});
  size_t codes = 0, notes = 0;
  for (const char* key : {"E11.22", "E11.9", "N18.4", "I50.9", "E11", "D63.1", "R65.21",
                          "S72.001A", "E11.22", "Z79.4"}) {
    std::optional<Code> c = s.Find(key);
    ASSERT_TRUE(c) << key;
    for (NoteKind kind : {NoteKind::kExcludes1, NoteKind::kExcludes2, NoteKind::kUseAdditionalCode,
                          NoteKind::kCodeFirst, NoteKind::kCodeAlso, NoteKind::kInclusionTerm}) {
      c->NotesInEffect(kind, &reused);
      EXPECT_TRUE(same(reused, c->NotesInEffect(kind))) << key << " kind " << static_cast<int>(kind);
      notes += reused.size();
    }
    ++codes;
  }
  EXPECT_EQ(codes, 10u);
  EXPECT_GT(notes, 20u);
  // Several kinds in one walk: each kind's notes in turn, in the order asked.
  for (const char* key : {"E11.22", "N18.4", "D63.1", "R65.21", "S72.001A", "Z79.4"}) {
    std::optional<Code> c = s.Find(key);
    ASSERT_TRUE(c) << key;
    for (const std::vector<NoteKind>& kinds : std::vector<std::vector<NoteKind>>{
             {NoteKind::kUseAdditionalCode, NoteKind::kCodeFirst, NoteKind::kCodeAlso},
             {NoteKind::kCodeAlso, NoteKind::kExcludes1},
             {NoteKind::kInclusionTerm},
             {}}) {
      std::vector<Note> expected;
      for (NoteKind kind : kinds) {
        for (Note& n : c->NotesInEffect(kind)) expected.push_back(std::move(n));
      }
      c->NotesInEffect(kinds, &reused);
      EXPECT_TRUE(same(reused, expected)) << key << " kinds " << kinds.size();
    }
  }
}

TEST(CodeSetTest, NotesWithCodeReferences) {
  const CodeSet& s = TestCodeSet();
  std::optional<Code> e11 = s.Find("E11");
  std::vector<Note> notes = e11->notes();
  bool found = false;
  for (const Note& n : notes) {
    if (n.kind == NoteKind::kExcludes1 && n.text.find("E08") != std::string_view::npos) {
      found = true;
      ASSERT_THAT(n.refs, Not(IsEmpty()));
      EXPECT_EQ(n.refs[0].first, "E08.-");
      EXPECT_EQ(n.refs[0].last, "");
      EXPECT_THAT(CodesOf(s.Expand(n.refs[0])), Contains("E08.9"));
    }
  }
  EXPECT_TRUE(found);
  // Inherited: the excludes1 of E11 applies at E11.9, nearest first.
  std::vector<Note> ex = s.Find("E11.9")->NotesInEffect(NoteKind::kExcludes1);
  ASSERT_THAT(ex, Not(IsEmpty()));
  bool e10 = false;
  for (const Note& n : ex) {
    for (const CodeRange& r : n.refs) e10 |= r.first == "E10.-";
  }
  EXPECT_TRUE(e10);
  // use additional code at E11 names Z79.4.
  bool z794 = false;
  for (const Note& n : s.Find("E11.22")->NotesInEffect(NoteKind::kUseAdditionalCode)) {
    for (const CodeRange& r : n.refs) z794 |= r.first == "Z79.4";
  }
  EXPECT_TRUE(z794);
  // I50.9 inclusion term.
  bool nos = false;
  for (const Note& n : s.Find("I50.9")->notes()) {
    nos |= n.kind == NoteKind::kInclusionTerm && n.text == "Cardiac, heart or myocardial failure NOS";
  }
  EXPECT_TRUE(nos);
}

TEST(CodeSetTest, ExpandRanges) {
  const CodeSet& s = TestCodeSet();
  std::set<std::string> htn = CodesOf(s.Expand({"I10", "I16"}));
  EXPECT_THAT(htn, Contains("I10"));
  EXPECT_THAT(htn, Contains("I13.2"));
  EXPECT_THAT(htn, Contains("I16.9"));
  EXPECT_THAT(htn, Not(Contains("I20.9")));
  EXPECT_THAT(s.Expand({"Q99.99", ""}), IsEmpty());
}

TEST(CodeSetTest, AlphabeticIndex) {
  const CodeSet& s = TestCodeSet();
  std::optional<IndexTerm> failure = s.FindMainTerm("failure");
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->title(), "Failure, failed");
  EXPECT_EQ(failure->level(), 0);
  std::optional<IndexTerm> biv = failure->FindChild("biventricular");
  ASSERT_TRUE(biv);
  EXPECT_EQ(biv->code(), "I50.82");
  std::optional<IndexTerm> t = s.LookupIndex({"Failure", "heart", "congestive"});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->code(), "I50.9");
  EXPECT_EQ(t->Path(), "Failure, failed > heart > congestive");
  EXPECT_EQ(t->parent()->title(), "heart");
  std::optional<IndexTerm> see = s.FindMainTerm("Abandonment");
  ASSERT_TRUE(see);
  EXPECT_EQ(see->see(), "Maltreatment");
  std::optional<IndexTerm> abasia = s.FindMainTerm("ABASIA");
  ASSERT_TRUE(abasia);
  EXPECT_EQ(abasia->nonessential_modifiers(), "(-astasia) (hysterical)");
  EXPECT_EQ(abasia->code(), "F44.4");
  EXPECT_FALSE(s.FindMainTerm("Nonexistentterm").has_value());
  EXPECT_FALSE(s.LookupIndex({"Failure", "nonexistent"}).has_value());
  EXPECT_FALSE(s.LookupIndex({}).has_value());
}

TEST(CodeSetTest, TableOfNeoplasms) {
  const CodeSet& s = TestCodeSet();
  std::optional<IndexTerm> lung = s.LookupIndex({"Neoplasm", "lung"}, IndexTable::kNeoplasms);
  ASSERT_TRUE(lung);
  EXPECT_EQ(lung->table(), IndexTable::kNeoplasms);
  EXPECT_THAT(std::string(lung->neoplasm_code(NeoplasmColumn::kMalignantPrimary)),
              HasSubstr("C34"));
  EXPECT_THAT(std::string(lung->neoplasm_code(NeoplasmColumn::kMalignantSecondary)),
              HasSubstr("C78.0"));
  std::optional<IndexTerm> abdomen =
      s.LookupIndex({"Neoplasm, neoplastic", "abdomen, abdominal"}, IndexTable::kNeoplasms);
  ASSERT_TRUE(abdomen);
  EXPECT_EQ(abdomen->neoplasm_code(NeoplasmColumn::kMalignantPrimary), "C76.2");
  EXPECT_EQ(abdomen->neoplasm_code(NeoplasmColumn::kUnspecifiedBehavior), "D49.89");
}

TEST(CodeSetTest, SearchRanksTheObviousCodeFirst) {
  const CodeSet& s = TestCodeSet();
  SearchOptions o;
  o.max_results = 5;
  std::vector<SearchHit> hits = s.Search("congestive heart failure", o);
  ASSERT_THAT(hits, Not(IsEmpty()));
  EXPECT_EQ(hits[0].code.code(), "I50.9");
  hits = s.Search("Type 2 diabetes mellitus without complications", o);
  ASSERT_THAT(hits, Not(IsEmpty()));
  EXPECT_EQ(hits[0].code.code(), "E11.9");
  hits = s.Search("chronic kidney disease stage 4", o);
  ASSERT_THAT(hits, Not(IsEmpty()));
  EXPECT_EQ(hits[0].code.code(), "N18.4");
  EXPECT_LE(hits.size(), 5u);
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  o.billable_only = true;
  o.max_results = 50;
  for (const SearchHit& h : s.Search("heart failure", o)) EXPECT_TRUE(h.code.billable());
  EXPECT_THAT(s.Search("", o), IsEmpty());
  EXPECT_THAT(s.Search("qqqqzzzz", o), IsEmpty());
}

TEST(CodeSetTest, HccCategoriesFromTheCmsMapping) {
  const CodeSet& s = TestCodeSet();
  std::vector<HccCategory> h = s.HccCategories("E11.9");
  std::set<std::pair<std::string, std::string>> got;
  for (const HccCategory& c : h) got.emplace(std::string(c.model), c.hcc);
  EXPECT_THAT(got, Contains(std::make_pair(std::string("CMS-HCC Model V24"), std::string("HCC19"))));
  EXPECT_THAT(got, Contains(std::make_pair(std::string("CMS-HCC Model V28"), std::string("HCC38"))));
  for (const HccCategory& c : h) {
    if (c.model == "CMS-HCC Model V28") {
      EXPECT_EQ(c.label, "Diabetes with Glycemic, Unspecified, or No Complications");
    }
  }
  // A code that maps to two V28 categories.
  int v28 = 0;
  for (const HccCategory& c : s.HccCategories("E08311")) v28 += c.model == "CMS-HCC Model V28";
  EXPECT_EQ(v28, 2);
  EXPECT_THAT(s.HccCategories("R05"), IsEmpty());
  EXPECT_THAT(s.HccCategories(""), IsEmpty());
}

TEST(CodeSetTest, ReferenceTables) {
  const CodeSet& s = TestCodeSet();
  absl::StatusOr<ReferenceTable> t = s.Table("hcc/ra_hierarchies");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column_count(), 5u);
  EXPECT_EQ(t->column_name(0), "cc_parent");
  EXPECT_EQ(t->ColumnIndex("model_version"), 3);
  EXPECT_EQ(t->ColumnIndex("nope"), -1);
  EXPECT_EQ(t->row_count(), 734u);
  EXPECT_EQ(t->cell(100000, 0), "");
  EXPECT_EQ(s.Table("hcc/nope").status().code(), absl::StatusCode::kNotFound);
  // A headerless inventory gets numbered column names.
  absl::StatusOr<ReferenceTable> stetson =
      s.Table("abbreviations/stetson_sense_distribution_448");
  ASSERT_TRUE(stetson.ok());
  EXPECT_EQ(stetson->column_name(0), "column1");
  EXPECT_EQ(stetson->cell(0, 0), "po");
  EXPECT_EQ(stetson->row_count(), 765u);
  EXPECT_THAT(s.TableNames(), Contains("hcc/ra_coefficients"));
  EXPECT_THAT(s.TableNames(), Not(Contains("hcc/golden_raf_cases_hccinfhir")));
}

TEST(CodeSetTest, MissingPackIsNotFound) {
  CodeSetOptions o;
  o.data_pack = "/nonexistent/dir/chartcoder.ccpack";
  absl::StatusOr<std::unique_ptr<CodeSet>> s = CodeSet::Create(o);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("/nonexistent/dir/chartcoder.ccpack"));
}

TEST(CodeSetTest, SharedAcrossThreads) {
  const CodeSet& s = TestCodeSet();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (s.Find("I50.22") && !s.Search("heart failure", {}).empty()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 800);
}

}  // namespace
}  // namespace chartcoder
