// Benchmarks of CMS-HCC scoring: members of about 10 codes each through
// RiskModel::ScoreInto (the Pipeline's per-chart path), against a baseline of
// the same code look-ups through CodeSet::Find in the same run.
//   build/bin/hcc_benchmark
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "chartcoder/codeset.h"
#include "chartcoder/hcc.h"

namespace {

using chartcoder::CodeSet;
using chartcoder::HccModel;
using chartcoder::RiskModel;

std::shared_ptr<const CodeSet> Codes() {
  static const std::shared_ptr<const CodeSet> codes = [] {
    chartcoder::CodeSetOptions o;
    o.data_pack = CHARTCODER_TEST_PACK;
    auto s = chartcoder::CodeSet::Create(o);
    if (!s.ok()) std::abort();
    return std::shared_ptr<const CodeSet>(std::move(*s));
  }();
  return codes;
}

std::unique_ptr<RiskModel> Create(HccModel model) {
  chartcoder::RiskModelOptions o;
  o.code_set = Codes();
  o.model = model;
  auto m = RiskModel::Create(o);
  if (!m.ok()) std::abort();
  return std::move(*m);
}

const RiskModel& Model(HccModel model) {
  static const RiskModel* const v24 = Create(HccModel::kV24).release();
  static const RiskModel* const v28 = Create(HccModel::kV28).release();
  return model == HccModel::kV24 ? *v24 : *v28;
}

struct Member {
  chartcoder::Demographics demographics;
  std::vector<std::string> codes;
  std::vector<std::string_view> views;
};

// 4,096 members of 5 to 15 codes (10 on average), deterministic. Codes come
// from a pool of 2,000 codes that map to a CMS-HCC V24 or V28 HCC and 2,000
// billable codes that map to none (dotted, as coders write them), plus one
// non-billable or malformed code in 20. `uniform` instead draws from every
// code of the pack (a cache-unfriendly worst case).
std::vector<Member> Members(bool uniform) {
  const CodeSet& cs = *Codes();
  std::vector<std::string> mapped, unmapped, all;
  for (size_t i = 0; i < cs.code_count(); ++i) {
    chartcoder::Code c = cs.CodeAt(static_cast<uint32_t>(i));
    all.emplace_back(c.code());
    if (!c.billable()) continue;
    bool has_hcc = false;
    for (const chartcoder::HccCategory& h : cs.HccCategories(c.key())) {
      has_hcc = has_hcc || h.model == "CMS-HCC Model V24" || h.model == "CMS-HCC Model V28";
    }
    (has_hcc ? mapped : unmapped).emplace_back(c.code());
  }
  std::mt19937_64 rng(20260101);
  std::shuffle(mapped.begin(), mapped.end(), rng);
  std::shuffle(unmapped.begin(), unmapped.end(), rng);
  mapped.resize(2000);
  unmapped.resize(2000);
  const std::vector<std::string> odd = {"I21.1", "R05", "E11.99999", "XYZ", "E11"};
  std::vector<Member> members(4096);
  for (Member& m : members) {
    m.demographics.age = 65 + static_cast<int>(rng() % 31);
    m.demographics.sex = rng() % 2 ? chartcoder::Sex::kFemale : chartcoder::Sex::kMale;
    m.demographics.dual = static_cast<chartcoder::DualStatus>(rng() % 10 < 8 ? 0 : 1 + rng() % 2);
    m.demographics.institutional = rng() % 30 == 0;
    const int n = 5 + static_cast<int>(rng() % 11);
    for (int k = 0; k < n; ++k) {
      if (uniform) {
        m.codes.push_back(all[rng() % all.size()]);
      } else if (rng() % 20 == 0) {
        m.codes.push_back(odd[rng() % odd.size()]);
      } else {
        m.codes.push_back(rng() % 2 ? mapped[rng() % mapped.size()]
                                    : unmapped[rng() % unmapped.size()]);
      }
    }
    for (const std::string& c : m.codes) m.views.push_back(c);
  }
  return members;
}

const std::vector<Member>& Pool(bool uniform) {
  static const std::vector<Member> skewed = Members(false);
  static const std::vector<Member> flat = Members(true);
  return uniform ? flat : skewed;
}

size_t CodeCount(const std::vector<Member>& members) {
  size_t n = 0;
  for (const Member& m : members) n += m.codes.size();
  return n;
}

// Scores the members one after another into one reused RiskScore.
void ScoreMembers(benchmark::State& state, const RiskModel& model,
                  const std::vector<Member>& members) {
  chartcoder::RiskScore out;
  size_t i = 0;
  double total = 0;
  for (auto _ : state) {
    const Member& m = members[i++ & 4095];
    if (!model.ScoreInto(m.views, m.demographics, &out).ok()) std::abort();
    total += out.raw_score;
  }
  benchmark::DoNotOptimize(total);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["codes_per_member"] =
      static_cast<double>(CodeCount(members)) / static_cast<double>(members.size());
}

void BM_HccScoreMember(benchmark::State& state) {
  ScoreMembers(state, Model(state.range(0) == 24 ? HccModel::kV24 : HccModel::kV28), Pool(false));
}
BENCHMARK(BM_HccScoreMember)->Arg(24)->Arg(28);

// The same through Score(), which returns a fresh RiskScore each time.
void BM_HccScoreMemberAllocating(benchmark::State& state) {
  const RiskModel& model = Model(HccModel::kV28);
  const std::vector<Member>& members = Pool(false);
  size_t i = 0;
  double total = 0;
  for (auto _ : state) {
    const Member& m = members[i++ & 4095];
    auto s = model.Score(m.views, m.demographics);
    if (!s.ok()) std::abort();
    total += s->raw_score;
  }
  benchmark::DoNotOptimize(total);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HccScoreMemberAllocating);

// Codes drawn uniformly from all 96,821 codes: no locality in the code table.
void BM_HccScoreMemberUniformCodes(benchmark::State& state) {
  ScoreMembers(state, Model(HccModel::kV28), Pool(true));
}
BENCHMARK(BM_HccScoreMemberUniformCodes);

// Baseline: only looking the same members' codes up with CodeSet::Find.
void BM_HccBaselineCodeSetFind(benchmark::State& state) {
  const CodeSet& cs = *Codes();
  const std::vector<Member>& members = Pool(false);
  size_t i = 0, found = 0;
  for (auto _ : state) {
    const Member& m = members[i++ & 4095];
    for (std::string_view c : m.views) found += cs.Find(c).has_value();
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HccBaselineCodeSetFind);

// Compiling a model from the pack's tables.
void BM_HccCreateModel(benchmark::State& state) {
  Codes();
  for (auto _ : state) {
    auto m = Create(state.range(0) == 24 ? HccModel::kV24 : HccModel::kV28);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HccCreateModel)->Arg(24)->Arg(28)->Unit(benchmark::kMillisecond);

}  // namespace
