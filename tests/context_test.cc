// Tests of the ConText assertion: many realistic sentences per attribute,
// the hard cases, cue spans, spans of any shape, and the trigger lexicon.
#include "chartcoder/context.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "chartcoder/codeset.h"
#include "chartcoder/tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/context_access.h"
#include "tests/test_support.h"
#include "tests/text_test_support.h"

namespace chartcoder {
namespace {

using ::testing::HasSubstr;

const TextAnalyzer& Analyzer() { return testing::DefaultAnalyzer(); }

const ContextAnalyzer& Context() {
  static const ContextAnalyzer* const kContext = [] {
    absl::StatusOr<std::unique_ptr<ContextAnalyzer>> c = ContextAnalyzer::Create({});
    EXPECT_TRUE(c.ok()) << c.status();
    return c->release();
  }();
  return *kContext;
}

// "N" negated, "U" uncertain, "H" historical, "Y" hypothetical, "F" family,
// in that order; "" for an affirmed, current, patient's own mention.
std::string Flags(const Assertion& a) {
  std::string f;
  if (a.negated) f += "N";
  if (a.uncertain) f += "U";
  if (a.historical) f += "H";
  if (a.hypothetical) f += "Y";
  if (a.family) f += "F";
  return f;
}

std::string CueText(std::string_view text, const Cue& c) {
  return std::string(text.substr(c.begin, c.end - c.begin));
}

std::string Describe(std::string_view text, const Assertion& a) {
  std::string s("[");
  s.append(Flags(a)).append("]");
  for (const Cue& c : a.cues) {
    s.append(" ").append(CueKindName(c.kind)).append("/").append(CueKindName(c.attribute));
    s.append(":'").append(CueText(text, c)).append("'");
  }
  return s;
}

Assertion Assess(const ContextAnalyzer& context, std::string_view text, std::string_view target,
                 std::string* described = nullptr) {
  absl::StatusOr<Document> d = Analyzer().Analyze(text);
  EXPECT_TRUE(d.ok()) << d.status();
  const size_t at = text.find(target);
  EXPECT_NE(at, std::string_view::npos) << "'" << target << "' not in '" << text << "'";
  Assertion a =
      context.Assess(*d, static_cast<uint32_t>(at), static_cast<uint32_t>(at + target.size()));
  if (described != nullptr) *described = Describe(text, a);
  return a;
}

struct Case {
  std::string text;
  std::string target;
  std::string flags;
};

void ExpectAll(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    std::string described;
    const Assertion a = Assess(Context(), c.text, c.target, &described);
    EXPECT_EQ(Flags(a), c.flags) << "text:   " << c.text << "\ntarget: " << c.target
                                 << "\ngot:    " << described;
  }
}

TEST(ContextTest, Negation) {
  ExpectAll({
      {"Patient denies chest pain.", "chest pain", "N"},
      {"No fever or chills.", "chills", "N"},
      {"No evidence of pneumonia on chest x-ray.", "pneumonia", "N"},
      {"Lungs clear without wheezes or crackles.", "crackles", "N"},
      {"Negative for DVT.", "DVT", "N"},
      {"She has no history of stroke.", "stroke", "N"},
      {"There is no pleural effusion.", "pleural effusion", "N"},
      {"Abdomen is soft and not distended.", "distended", "N"},
      {"Absent pedal pulses.", "pedal pulses", "N"},
      {"Pedal pulses absent bilaterally.", "Pedal pulses", "N"},
      {"Pulmonary embolism was ruled out by CT angiogram.", "Pulmonary embolism", "N"},
      {"Ruled out for MI.", "MI", "N"},
      // "ruled out" closing its clause looks back, otherwise forward.
      {"Ruled out MI.", "MI", "N"},
      {"Bone scan, which ruled out metastases, was normal.", "metastases", "N"},
      {"Liver mets - RULED OUT (MRI liver negative)", "Liver mets", "N"},
      {"MI ruled out by serial troponins.", "MI", "N"},
      {"Chest pain; ruled out ACS by serial troponins.", "ACS", "N"},
      {"ACS ruled out, pneumonia treated with antibiotics.", "ACS", "N"},
      {"Troponin negative x2.", "Troponin", "N"},
      {"HIV test negative.", "HIV", "N"},
      {"Denies fever, chills, night sweats, weight loss, or chest pain.", "chest pain", "N"},
      {"No acute distress.", "distress", "N"},
      {"No longer has chest pain.", "chest pain", "N"},
      {"Patient is free of symptoms.", "symptoms", "N"},
      {"No new lesions.", "lesions", "N"},
      {"No signs of infection at the site.", "infection", "N"},
      {"Never had a seizure.", "seizure", "N"},
      {"Symptoms improved; no residual weakness.", "weakness", "N"},
      {"MRI brain shows no acute infarct.", "infarct", "N"},
      {"Diabetic foot exam: no ulcers.", "ulcers", "N"},
      {"No further episodes of syncope since discharge.", "syncope", "N"},
      {"Pain free since surgery.", "Pain", "N"},
      {"Abdomen soft, non-tender, non-distended.", "distended", "N"},
      {"Patient reports no nausea or vomiting.", "vomiting", "N"},
      {"Chest pain: no", "Chest pain", "N"},
      {"Fever - denies, cough - yes", "Fever", "N"},
      {"Without edema.", "edema", "N"},
      {"Denies SI/HI.", "SI", "N"},
      {"Denies any history of seizures.", "seizures", "N"},
      {"CT negative for pulmonary embolism.", "pulmonary embolism", "N"},
      {"He denies tobacco, alcohol, or drug use.", "drug use", "N"},
      {"Asthma: denies", "Asthma", "N"},
      {"Negative: fever, chills", "chills", "N"},
  });
}

TEST(ContextTest, NotNegated) {
  ExpectAll({
      {"ACS ruled out, pneumonia treated with antibiotics.", "pneumonia", ""},
      {"MI ruled out and admitted for heart failure.", "heart failure", ""},
      {"Denies chest pain but reports dyspnea.", "dyspnea", ""},
      {"No fever. Cough is productive.", "Cough", ""},
      {"No change in his chronic kidney disease.", "chronic kidney disease", ""},
      {"No increase in shortness of breath.", "shortness of breath", ""},
      {"Not only diabetes but also hypertension.", "hypertension", ""},
      {"Gram negative bacteremia.", "bacteremia", ""},
      {"No fever; positive for cough.", "cough", ""},
      {"Negative for fever, positive for cough.", "cough", ""},
      {"Denies fever, however endorses fatigue.", "fatigue", ""},
      {"No complaints other than fatigue.", "fatigue", ""},
      {"Non-small cell lung cancer, stage IV.", "lung cancer", ""},
      {"Course was not without complications.", "complications", ""},
      {"Diabetes not well controlled.", "Diabetes", ""},
      {"Hypertension, not at goal on two agents.", "Hypertension", ""},
      {"Patient with CHF who is non-compliant with diet.", "CHF", ""},
      {"Pain is not relieved by rest.", "Pain", ""},
      {"No fever but has chills.", "chills", ""},
      {"COPD exacerbation, no improvement with nebulizers.", "COPD exacerbation", ""},
      {"Patient has diabetes.", "diabetes", ""},
      {"The patient has no known drug allergies and has diabetes.", "diabetes", ""},
      {"Not a candidate for surgery given severe COPD.", "COPD", ""},
      {"No chest pain; however, she has had worsening dyspnea.", "dyspnea", ""},
      {"Patient reports his brother has schizophrenia; patient denies hallucinations.",
       "schizophrenia", "F"},
  });
}

TEST(ContextTest, DoubleNegation) {
  ExpectAll({
      {"Patient does not deny chest pain.", "chest pain", ""},
      {"He did not deny having fevers.", "fevers", ""},
      {"She never denied alcohol use.", "alcohol use", ""},
      {"Not negative for protein.", "protein", ""},
  });
  std::string d;
  Assertion a = Assess(Context(), "Patient does not deny chest pain.", "chest pain", &d);
  ASSERT_EQ(a.cues.size(), 2u) << d;
  EXPECT_EQ(a.cues[0].kind, CueKind::kDoubleNegation);
  EXPECT_EQ(a.cues[1].kind, CueKind::kDoubleNegation);
  // Two separate negations of two items are not a double negation.
  ExpectAll({{"No fever, denies chills.", "chills", "N"}});
}

TEST(ContextTest, Uncertainty) {
  ExpectAll({
      {"Possible pneumonia.", "pneumonia", "U"},
      {"Probable viral URI.", "viral URI", "U"},
      {"Rule out MI.", "MI", "U"},
      {"r/o sepsis", "sepsis", "U"},
      {"Questionable left lower lobe infiltrate.", "infiltrate", "U"},
      {"Findings suspicious for malignancy.", "malignancy", "U"},
      {"Concern for PE.", "PE", "U"},
      {"Pneumonia vs. atelectasis.", "atelectasis", "U"},
      {"Pneumonia vs. atelectasis.", "Pneumonia", "U"},
      {"Pneumonia (vs atelectasis).", "Pneumonia", "U"},
      {"RLL opacity (pneumonia vs atelectasis).", "pneumonia", "U"},
      {"Likely CHF exacerbation.", "CHF exacerbation", "U"},
      {"Cannot rule out appendicitis.", "appendicitis", "U"},
      {"MI not ruled out.", "MI", "U"},
      {"Differential includes lupus.", "lupus", "U"},
      {"Suspected UTI.", "UTI", "U"},
      {"UTI suspected.", "UTI", "U"},
      {"Evaluate for DVT.", "DVT", "U"},
      {"? pneumonia", "pneumonia", "U"},
      {"Pneumonia?", "Pneumonia", "U"},
      {"Could be early sepsis.", "sepsis", "U"},
      {"Atypical chest pain, doubt cardiac etiology.", "cardiac etiology", "U"},
      {"May have sleep apnea.", "sleep apnea", "U"},
      {"Unable to rule out pneumonia.", "pneumonia", "U"},
      {"Cannot exclude PE.", "PE", "U"},
      {"PE cannot be excluded.", "PE", "U"},
      {"Pneumonia is unlikely.", "Pneumonia", "U"},
      {"Pneumonia likely.", "Pneumonia", "U"},
      // A connector after the trigger: the words before are its subject.
      {"Pneumonia likely given fever and infiltrate.", "Pneumonia", "U"},
      {"Sepsis possible due to bacteremia.", "Sepsis", "U"},
      {"It seemed unlikely that a seizure caused the confusion.", "seizure", "U"},
      {"Cellulitis vs DVT, possible.", "DVT", "U"},
      {"Elevated troponin, demand ischemia suspected.", "demand ischemia", "U"},
      {"AKI, likely due to dehydration.", "dehydration", "U"},
      // Inside the span, with words of it after: the span is uncertain.
      {"Lung nodule, concerning for malignancy.", "Lung nodule, concerning for malignancy", "U"},
      {"Type 2 diabetes, likely with neuropathy.", "neuropathy", "U"},
      {"Presumed viral gastroenteritis.", "gastroenteritis", "U"},
  });
}

TEST(ContextTest, NotUncertain) {
  ExpectAll({
      // "likely", "possible" with words after them in their clause qualify
      // those words, not the condition before ("trailing").
      {"AKI on CKD 3a, likely prerenal.", "AKI", ""},
      {"Pneumonia, likely viral, on azithromycin.", "Pneumonia", ""},
      {"Sjogren syndrome, possible lupus.", "Sjogren syndrome", ""},
      {"Confirmed pneumonia on CT.", "pneumonia", ""},
      {"Findings consistent with pneumonia.", "pneumonia", ""},
      {"Pneumonia, treated with antibiotics.", "Pneumonia", ""},
      // A "vs" between words of a parenthesis weighs those words (the
      // organism), not the condition before it.
      {"Triggered by acute bronchitis (likely viral vs bacterial).", "acute bronchitis", ""},
      {"MI ruled out. CHF exacerbation likely resolved.", "MI", "N"},
      // A trailing trigger looking back stays in its own list item: words
      // between the last comma and the trigger are what it qualifies.
      {"Elevated troponin, demand ischemia suspected.", "Elevated troponin", ""},
      {"Cough and fever, pneumonia likely.", "fever", ""},
      // ... and one that opens its item and names a cause qualifies the cause.
      {"AKI, likely due to dehydration.", "AKI", ""},
      {"Elevated liver enzymes, likely from alcohol use.", "Elevated liver enzymes", ""},
      {"Type 2 diabetes, likely with neuropathy.", "Type 2 diabetes", ""},
  });
}

TEST(ContextTest, Historical) {
  ExpectAll({
      {"History of breast cancer.", "breast cancer", "H"},
      {"h/o MI in 2010.", "MI", "H"},
      {"s/p CABG.", "CABG", "H"},
      {"Status post appendectomy.", "appendectomy", "H"},
      {"Prior stroke with residual weakness.", "stroke", "H"},
      {"Remote history of DVT.", "DVT", "H"},
      {"Previous myocardial infarction.", "myocardial infarction", "H"},
      {"Old MI on EKG.", "MI", "H"},
      {"Pneumonia 3 years ago.", "Pneumonia", "H"},
      {"Had chickenpox as a child.", "chickenpox", "H"},
      {"Former smoker.", "smoker", "H"},
      {"Quit smoking in 2005.", "smoking", "H"},
      {"Pneumonia, resolved.", "Pneumonia", "H"},
      {"PMH: HTN, DM2", "HTN", "H"},
      {"Past Medical History:\n- Asthma\n- GERD", "GERD", "H"},
      {"PSH: cholecystectomy", "cholecystectomy", "H"},
      {"PMH: HTN, DM2 on insulin, gout", "gout", "H"},
  });
}

TEST(ContextTest, CurrentTreatmentClearsHistorical) {
  ExpectAll({
      {"History of breast cancer, currently on tamoxifen.", "breast cancer", ""},
      {"History of breast cancer but currently on tamoxifen.", "breast cancer", ""},
      {"PMH: HTN, DM2 on insulin, gout", "DM2", ""},
      {"History of DVT, now on warfarin.", "DVT", ""},
      {"Past Medical History:\n- ESRD on hemodialysis", "ESRD", ""},
      {"PMH: hypertension, well controlled", "hypertension", ""},
      {"Hx of stroke with residual left-sided weakness.", "weakness", ""},
      {"History of hypertension, on lisinopril.", "hypertension", ""},
  });
  std::string d;
  Assertion a =
      Assess(Context(), "History of breast cancer, currently on tamoxifen.", "breast cancer", &d);
  ASSERT_EQ(a.cues.size(), 2u) << d;
  EXPECT_EQ(a.cues[0].kind, CueKind::kHistorical);
  EXPECT_EQ(a.cues[1].kind, CueKind::kCurrent);
  EXPECT_EQ(a.cues[1].attribute, CueKind::kHistorical);
}

TEST(ContextTest, NotHistorical) {
  ExpectAll({
      {"Presents with chest pain.", "chest pain", ""},
      {"History of present illness: 3 days of cough.", "cough", ""},
      {"Pain in the past week.", "Pain", ""},
      {"Prior to admission, patient had fever.", "fever", ""},
      {"67 year old male with diabetes.", "diabetes", ""},
      {"Pain started 2 days ago.", "Pain", ""},
      {"History of MI, presents with new chest pain.", "chest pain", ""},
      {"Known CAD s/p PCI.", "CAD", ""},
      // The reason for a referral is current, whatever history precedes it.
      {"s/p L great toe amputation (2021, osteomyelitis) referred for R heel ulcer x 10 wks.",
       "heel ulcer", ""},
      // Completing chemotherapy ends the chemotherapy, not the drug after it.
      {"Breast cancer, completed chemo 2015, on anastrozole.", "anastrozole", ""},
      {"Finished chemo in May, on tamoxifen.", "tamoxifen", ""},
      // A duration before "history of" is how long it has lasted.
      {"Presents with a 3-day history of productive cough.", "productive cough", ""},
      {"He presents with a two week history of epigastric pain.", "epigastric pain", ""},
      {"Patient with a 10 year history of diabetes.", "diabetes", ""},
  });
}

// "s/p" and "status post" name one procedure or event: their scope is
// their own list item, so what follows the next ',' or ';' is current.
TEST(ContextTest, StatusPostReachesOnlyItsOwnItem) {
  ExpectAll({
      {"CAD s/p CABG, stable angina.", "stable angina", ""},
      {"s/p left BKA, type 2 diabetes with neuropathy, CKD stage 3.", "type 2 diabetes", ""},
      {"Status post CABG, hypertension, hyperlipidemia.", "hyperlipidemia", ""},
      {"s/p cholecystectomy; chronic diarrhea.", "chronic diarrhea", ""},
      {"s/p CABG x3 in 2019.", "CABG", "H"},
      {"s/p MI and stent placement.", "MI", "H"},
      {"Status post fall with right hip fracture.", "right hip fracture", "H"},
      {"History of MI, stroke.", "stroke", "H"},
  });
}

TEST(ContextTest, Hypothetical) {
  ExpectAll({
      // A procedure still to come has no result yet.
      {"Severe aortic stenosis, planning TAVR.", "TAVR", "Y"},
      {"Scheduled for left BKA tomorrow.", "BKA", "Y"},
      {"ESRD, candidate for kidney transplant.", "kidney transplant", "Y"},
      {"Awaiting kidney transplant, on hemodialysis.", "kidney transplant", "Y"},
      {"Plan for AV fistula creation next month.", "AV fistula", "Y"},
      {"Will undergo CABG on Monday.", "CABG", "Y"},
      {"Return if fever develops.", "fever", "Y"},
      {"Call if chest pain worsens.", "chest pain", "Y"},
      {"Return to ED if shortness of breath.", "shortness of breath", "Y"},
      {"If symptoms worsen, go to the ER.", "symptoms", "Y"},
      {"Seek medical attention for any signs of infection.", "infection", "Y"},
      {"Watch for signs of bleeding.", "bleeding", "Y"},
      {"He is at risk for falls.", "falls", "Y"},
      {"High risk of stroke.", "stroke", "Y"},
      {"DVT prophylaxis with heparin.", "DVT", "Y"},
      {"Colon cancer screening due.", "Colon cancer", "Y"},
      {"Screen for diabetes.", "diabetes", "Y"},
      {"Should he develop fever, call the clinic.", "fever", "Y"},
      {"Monitor for hypoglycemia.", "hypoglycemia", "Y"},
      {"Side effects include nausea.", "nausea", "Y"},
      {"In case of chest pain, take nitroglycerin.", "chest pain", "Y"},
      {"Fall precautions.", "Fall", "Y"},
      {"Notify for fever, fall, wound change, intake <50%.", "fever", "Y"},
      {"Notify MD if chest pain recurs.", "chest pain", "Y"},
      // What a teaching session covered.
      {"Diabetes education (01/11): basal-bolus teaching, carbohydrate counting, hypoglycemia "
       "treatment, pen technique.",
       "hypoglycemia", "Y"},
      {"Educated about stroke symptoms and when to call 911.", "stroke", "Y"},
  });
}

TEST(ContextTest, NotHypothetical) {
  ExpectAll({
      {"Candidate for kidney transplant, ESRD on hemodialysis.", "ESRD", ""},
      {"Planning TAVR; CHF compensated.", "CHF", ""},
      {"Patient has fever.", "fever", ""},
      {"Diabetes education completed; type 2 diabetes with hyperglycemia.", "type 2 diabetes", ""},
      {"Fever developed yesterday.", "Fever", ""},
      {"Presented with fever and cough.", "cough", ""},
      {"Told to avoid NSAIDs due to history of GI bleed.", "GI bleed", "H"},
  });
}

TEST(ContextTest, Family) {
  ExpectAll({
      {"Mother had diabetes.", "diabetes", "F"},
      {"Father with CAD.", "CAD", "F"},
      {"Family history of colon cancer.", "colon cancer", "F"},
      {"FHx: breast cancer in maternal aunt.", "breast cancer", "F"},
      {"Brother died of MI at age 50.", "MI", "F"},
      {"Diabetes in mother and sister.", "Diabetes", "F"},
      {"Family History:\nHypertension", "Hypertension", "F"},
      {"Sister has lupus.", "lupus", "F"},
      {"His father had a stroke.", "stroke", "F"},
      {"Paternal grandmother with Alzheimer's disease.", "Alzheimer's disease", "F"},
      {"No family history of cancer.", "cancer", "NF"},
      {"Family History: Mother had breast cancer. Father with CAD.", "CAD", "F"},
      {"Diabetes: mother, sister.", "Diabetes", "F"},
      {"Breast cancer (mother).", "Breast cancer", "F"},
      {"Hypertension in his father.", "Hypertension", "F"},
  });
}

TEST(ContextTest, NotFamily) {
  ExpectAll({
      {"Patient's mother reports he has chest pain.", "chest pain", ""},
      {"Accompanied by daughter, patient reports dizziness.", "dizziness", ""},
      {"Mother at bedside; patient complains of abdominal pain.", "abdominal pain", ""},
      {"Family history noncontributory. Patient has diabetes.", "diabetes", ""},
      {"History obtained from son. Patient has dementia.", "dementia", ""},
      {"Mother had breast cancer; patient has diabetes.", "diabetes", ""},
      // A relative opening a clause looks forward, not back at the patient's
      // own conditions before it.
      {"She has a history of hypertension and diabetes mellitus 2 under treatment, her mother had "
       "breast cancer, her father a stroke.",
       "diabetes mellitus", ""},
      {"Patient has diabetes, her mother had breast cancer.", "diabetes", ""},
  });
}

TEST(ContextTest, ListHeadersNegateTheList) {
  ExpectAll({
      {"Negative for: fever, chills, weight loss", "weight loss", "N"},
      {"Negative for:\n- fever\n- chills\n- weight loss", "weight loss", "N"},
      {"ROS:\nDenies:\nheadache, blurry vision\nCough present.", "blurry vision", "N"},
      {"ROS:\nDenies:\nheadache, blurry vision\nCough present.", "Cough", ""},
      {"Negative for:\n- fever\n- chills, but has cough", "cough", ""},
      {"Patient denies the following:\n* chest pain\n* palpitations", "palpitations", "N"},
      {"Positive for:\n- fatigue", "fatigue", ""},
      {"Negative:\n- fever\n- chills", "chills", "N"},
      {"Negative for:\n- fever\n\nAssessment:\n- pneumonia", "pneumonia", ""},
  });
}

TEST(ContextTest, CombinedAttributes) {
  ExpectAll({
      {"No family history of cancer.", "cancer", "NF"},
      {"Mother with possible dementia.", "dementia", "UF"},
      {"No history of stroke.", "stroke", "N"},
      {"Rule out recurrent DVT.", "DVT", "U"},
  });
}

TEST(ContextTest, CueSpansPointAtTheTriggers) {
  const std::string text = "Denies chest pain but reports dyspnea.";
  Assertion a = Assess(Context(), text, "chest pain");
  ASSERT_EQ(a.cues.size(), 1u);
  EXPECT_EQ(a.cues[0].kind, CueKind::kNegation);
  EXPECT_EQ(a.cues[0].attribute, CueKind::kNegation);
  EXPECT_EQ(CueText(text, a.cues[0]), "Denies");
  // The terminator that stopped "Denies" explains dyspnea.
  Assertion b = Assess(Context(), text, "dyspnea");
  ASSERT_EQ(b.cues.size(), 1u);
  EXPECT_EQ(b.cues[0].kind, CueKind::kTerminator);
  EXPECT_EQ(b.cues[0].attribute, CueKind::kNegation);
  EXPECT_EQ(CueText(text, b.cues[0]), "but");
  // Pseudo-triggers are reported.
  const std::string p = "No increase in pain.";
  Assertion c = Assess(Context(), p, "pain");
  ASSERT_EQ(c.cues.size(), 1u);
  EXPECT_EQ(c.cues[0].kind, CueKind::kPseudo);
  EXPECT_EQ(c.cues[0].attribute, CueKind::kNegation);
  EXPECT_EQ(CueText(p, c.cues[0]), "No increase");
  // Section defaults point at the header.
  const std::string f = "Social: lives alone\nFamily History:\nHypertension";
  Assertion s = Assess(Context(), f, "Hypertension");
  ASSERT_EQ(s.cues.size(), 1u);
  EXPECT_EQ(s.cues[0].kind, CueKind::kSectionDefault);
  EXPECT_EQ(s.cues[0].attribute, CueKind::kFamily);
  EXPECT_EQ(CueText(f, s.cues[0]), "Family History:");
}

TEST(ContextTest, CuesAreInTextOrder) {
  std::string d;
  Assertion a = Assess(Context(), "History of breast cancer in mother, not currently on tamoxifen.",
                       "breast cancer", &d);
  for (size_t i = 1; i < a.cues.size(); ++i) EXPECT_LE(a.cues[i - 1].begin, a.cues[i].begin) << d;
  EXPECT_TRUE(a.family) << d;
}

TEST(ContextTest, AnySpanShape) {
  const std::string text = "No fever. Chest pain present.";
  absl::StatusOr<Document> d = Analyzer().Analyze(text);
  ASSERT_TRUE(d.ok());
  // Part of a token, and a span that is not a mention of the library.
  EXPECT_TRUE(Context().Assess(*d, 4, 6).negated);  // "fe" of fever
  // A span crossing sentences: the first sentence decides.
  EXPECT_TRUE(Context().Assess(*d, 3, static_cast<uint32_t>(text.size())).negated);
  // A span in the second sentence.
  EXPECT_FALSE(Context().Assess(*d, 10, 20).negated);
  // Empty, reversed, white space only, out of range: nothing.
  for (auto [b, e] :
       std::vector<std::pair<uint32_t, uint32_t>>{{5, 5}, {8, 3}, {9, 10}, {1000, 2000}, {0, 0}}) {
    const Assertion a = Context().Assess(*d, b, e);
    EXPECT_EQ(Flags(a), "") << b << "-" << e;
    EXPECT_TRUE(a.cues.empty());
  }
  // A span running past the end is clamped.
  EXPECT_FALSE(Context().Assess(*d, 10, 5000).negated);
}

TEST(ContextTest, TriggersInsideTheSpanAreIgnored) {
  // The span "no-show" holds "no"; it does not negate itself.
  ExpectAll({{"History of no-show visits.", "no-show visits", "H"}});
}

TEST(ContextTest, ANoteWithSections) {
  const std::string note =
      "CHIEF COMPLAINT: Shortness of breath.\n\n"
      "HPI: 72 yo F with h/o CHF and COPD presents with 3 days of worsening dyspnea. "
      "Denies chest pain or fever. Possible pneumonia per ED.\n\n"
      "PAST MEDICAL HISTORY:\n- CHF (EF 35%)\n- Emphysema on home O2\n- Breast cancer s/p "
      "mastectomy\n\n"
      "FAMILY HISTORY: Mother with MI at 60. No family history of lung cancer.\n\n"
      "ROS:\nNegative for:\n- fever\n- hemoptysis\n\n"
      "ASSESSMENT AND PLAN:\n1. Acute on chronic systolic CHF - diurese.\n"
      "2. Rule out pneumonia - CXR.\nReturn if chest pain develops.\n";
  std::vector<Case> cases = {
      {note, "Shortness of breath", ""},
      {note, "worsening dyspnea", ""},
      {note, "chest pain or fever", "N"},
      {note, "pneumonia per ED", "U"},
      {note, "Emphysema", ""},
      {note, "Breast cancer", "H"},
      {note, "mastectomy", "H"},
      {note, "MI at 60", "F"},
      {note, "lung cancer", "NF"},
      {note, "hemoptysis", "N"},
      {note, "systolic CHF", ""},
      {note, "pneumonia - CXR", "U"},
      {note, "chest pain develops", "Y"},
  };
  ExpectAll(cases);
}

TEST(ContextTest, AnalyzersAreSafeForConcurrentUse) {
  // One TextAnalyzer and one ContextAnalyzer shared by four threads give the
  // same answers as one thread (both are immutable; scratch is per call).
  const std::vector<Case> cases = {
      {"Denies chest pain but reports dyspnea.", "chest pain", "N"},
      {"Sj\xC3\xB6gren syndrome, possible lupus.", "lupus", "U"},
      {"Mother had diabetes.", "diabetes", "F"},
      {"Return if fever develops.", "fever", "Y"},
  };
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        for (const Case& c : cases) {
          if (Flags(Assess(Context(), c.text, c.target)) != c.flags) ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ContextRulesTest, ParsesAndRejectsTriggerTables) {
  absl::StatusOr<std::vector<TriggerRule>> rules = ParseTriggerRules(
      "phrase\tkind\tdirection\tmax_scope\tterminates\n"
      "no sign\tnegation\tforward\t5\n"
      "yet\tterminator\t\t\tnegation,family\n"
      "maybe\tuncertainty\tboth\t\n"
      "post\thistorical\titem\t\n",
      "mine.tsv");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 4u);
  EXPECT_EQ((*rules)[0].max_scope, 5);
  EXPECT_EQ((*rules)[1].kind, CueKind::kTerminator);
  EXPECT_EQ((*rules)[1].terminates, (1u << 0) | (1u << 4));
  EXPECT_EQ((*rules)[2].direction, TriggerDirection::kBoth);
  EXPECT_EQ((*rules)[3].direction, TriggerDirection::kItem);

  const std::string head = "phrase\tkind\tdirection\tmax_scope\n";
  struct Bad {
    std::string tsv, message;
  };
  for (const Bad& b : std::vector<Bad>{
           {head + "x\tnegatoin\tforward\t\n", "mine.tsv:2: unknown trigger kind 'negatoin'"},
           {head + "x\tnegation\tsideways\t\n",
            "direction must be forward, backward, both, trailing or item"},
           {head + "x\tnegation\t\t\n", "direction must be"},
           {head + "x\tnegation\tforward\t-1\n", "max_scope must be a whole number"},
           {head + "x\tnegation\tforward\tten\n", "max_scope must be a whole number"},
           {head + "\tnegation\tforward\t\n", "empty phrase"},
           {head + "x\tsection_default\tforward\t\n", "unknown trigger kind"},
           {"phrase\tkind\tdirection\tmax_scope\tterminates\nx\tnegation\tforward\t\tall\n",
            "only terminators"},
           {"phrase\tkind\tdirection\tmax_scope\tterminates\nx\tterminator\t\t\tpseudo\n",
            "'pseudo' is not an attribute"},
           {"phrase\tkind\n", "the header must be"},
       }) {
    absl::StatusOr<std::vector<TriggerRule>> r = ParseTriggerRules(b.tsv, "mine.tsv");
    ASSERT_FALSE(r.ok()) << b.tsv;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(b.message)) << b.tsv;
  }
}

TEST(ContextRulesTest, UserTriggerFilesExtendOverrideAndRemove) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.File("mine.tsv"),
                          "# site-specific triggers\n"
                          "phrase\tkind\tdirection\tmax_scope\n"
                          "nixed\tnegation\tbackward\t3\n"
                          "possible\tignore\t\t\n"
                          "negative for\thypothetical\tforward\t\n");
  ContextOptions options;
  options.trigger_files = {dir.File("mine.tsv")};
  options.extra_triggers = {{"sans", CueKind::kNegation, TriggerDirection::kForward, 0, 0}};
  absl::StatusOr<std::unique_ptr<ContextAnalyzer>> c = ContextAnalyzer::Create(options);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Flags(Assess(**c, "Pneumonia nixed.", "Pneumonia")), "N");
  EXPECT_EQ(Flags(Assess(**c, "Possible pneumonia.", "pneumonia")), "");
  EXPECT_EQ(Flags(Assess(**c, "Negative for fever.", "fever")), "Y");
  EXPECT_EQ(Flags(Assess(**c, "Sans fever.", "fever")), "N");
  size_t possible = 0;
  for (const TriggerRule& r : (*c)->rules()) possible += r.phrase == "possible";
  EXPECT_EQ(possible, 0u);

  options.trigger_files = {dir.File("nope.tsv")};
  absl::StatusOr<std::unique_ptr<ContextAnalyzer>> missing = ContextAnalyzer::Create(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(ContextRulesTest, OptionsAreValidated) {
  ContextOptions options;
  options.default_forward_scope = 0;
  EXPECT_EQ(ContextAnalyzer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = {};
  options.section_defaults = {{SectionKind::kPlan, CueKind::kPseudo}};
  EXPECT_EQ(ContextAnalyzer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = {};
  options.extra_triggers = {{"  ", CueKind::kNegation, TriggerDirection::kForward, 0, 0}};
  EXPECT_EQ(ContextAnalyzer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = {};
  options.extra_triggers = {{"x", CueKind::kSectionDefault, TriggerDirection::kForward, 0, 0}};
  EXPECT_EQ(ContextAnalyzer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ContextRulesTest, SectionDefaultsAreOptions) {
  ContextOptions options;
  options.section_defaults = {{SectionKind::kDischargeInstructions, CueKind::kHypothetical}};
  absl::StatusOr<std::unique_ptr<ContextAnalyzer>> c = ContextAnalyzer::Create(options);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Flags(Assess(**c, "Discharge Instructions:\nchest pain", "chest pain")), "Y");
  EXPECT_EQ(Flags(Assess(**c, "PMH: HTN", "HTN")), "");
  EXPECT_EQ(Flags(Assess(**c, "Family History: HTN", "HTN")), "");
}

TEST(ContextRulesTest, BuiltinLexiconFromThePackMatchesTheCompiledInCopy) {
  absl::StatusOr<std::vector<TriggerRule>> pack = BuiltinTriggerRules(&testing::TestCodeSet());
  ASSERT_TRUE(pack.ok()) << pack.status();
  absl::StatusOr<std::vector<TriggerRule>> embedded = BuiltinTriggerRules(nullptr);
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  ASSERT_EQ(pack->size(), embedded->size());
  EXPECT_GT(pack->size(), 800u);
  for (size_t i = 0; i < pack->size(); ++i) {
    EXPECT_EQ((*pack)[i].phrase, (*embedded)[i].phrase);
    EXPECT_EQ((*pack)[i].kind, (*embedded)[i].kind);
    EXPECT_EQ((*pack)[i].direction, (*embedded)[i].direction);
    EXPECT_EQ((*pack)[i].max_scope, (*embedded)[i].max_scope);
    EXPECT_EQ((*pack)[i].terminates, (*embedded)[i].terminates);
  }
  // No two phrases of the lexicon tokenize alike (one would silently win).
  EXPECT_EQ(Context().rules().size(), embedded->size());
  ContextOptions options;
  options.code_set = &testing::TestCodeSet();
  absl::StatusOr<std::unique_ptr<ContextAnalyzer>> c = ContextAnalyzer::Create(options);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->rules().size(), Context().rules().size());
}

TEST(ContextRulesTest, EveryBuiltinKindIsRepresented) {
  std::vector<int> counts(kCueKindCount, 0);
  for (const TriggerRule& r : Context().rules()) ++counts[static_cast<size_t>(r.kind)];
  for (CueKind k :
       {CueKind::kNegation, CueKind::kUncertainty, CueKind::kHistorical, CueKind::kHypothetical,
        CueKind::kFamily, CueKind::kCurrent, CueKind::kPseudo, CueKind::kTerminator}) {
    EXPECT_GE(counts[static_cast<size_t>(k)], 20) << CueKindName(k);
  }
  for (int i = 0; i < kCueKindCount; ++i) {
    EXPECT_EQ(ParseCueKind(CueKindName(static_cast<CueKind>(i))), static_cast<CueKind>(i));
  }
  EXPECT_EQ(TriggerDirectionName(TriggerDirection::kBoth), "both");
  EXPECT_EQ(TriggerDirectionName(TriggerDirection::kTrailing), "trailing");
  EXPECT_EQ(TriggerDirectionName(TriggerDirection::kItem), "item");
}

// The pipeline assesses a chart's mentions with a scratch kept across them
// (word ids, the longest trigger and the next trigger per token); the
// public Assess keeps none. Both give the same assertion and cues for spans
// of every token and of every two and five tokens of real charts, visited in
// text order and then backwards (the scratch filled by other spans first).
TEST(ContextTest, TheScratchOfADocumentChangesNoAssessment) {
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(testing::SourceDir() + "/examples/charts")) {
    if (e.path().extension() == ".txt") paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  ASSERT_GE(paths.size(), 6u);
  paths.resize(6);
  size_t compared = 0, affected = 0;
  for (const std::string& path : paths) {
    const std::string text = testing::ReadFileOrDie(path);
    absl::StatusOr<Document> d = Analyzer().Analyze(text);
    ASSERT_TRUE(d.ok()) << d.status();
    const std::span<const Token> tokens = d->tokens();
    for (bool backwards : {false, true}) {
      internal::ContextScratch scratch;
      for (size_t k = 0; k < tokens.size(); ++k) {
        const size_t i = backwards ? tokens.size() - 1 - k : k;
        for (size_t n : {1, 2, 5}) {
          if (i + n > tokens.size()) continue;
          const uint32_t begin = tokens[i].begin, end = tokens[i + n - 1].end;
          const Assertion want = Context().Assess(*d, begin, end);
          const Assertion got =
              internal::ContextAccess::Assess(Context(), *d, begin, end, &scratch);
          ASSERT_EQ(Describe(text, got), Describe(text, want))
              << path << " at " << begin << "-" << end << ": '"
              << text.substr(begin, end - begin) << "'";
          ASSERT_EQ(got.cues, want.cues);
          ++compared;
          affected += !Flags(want).empty();
        }
      }
    }
  }
  EXPECT_GT(compared, 10000u);
  EXPECT_GT(affected, 1000u);  // spans that triggers bear on, not only affirmed ones
}

}  // namespace
}  // namespace chartcoder
