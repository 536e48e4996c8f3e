#include "chartcoder/evaluation.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

std::string Key(std::string_view code) {
  std::string out;
  for (char c : internal::Trim(code)) {
    if (c == '.') continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

// Unique items in first-seen order.
std::vector<std::string> Unique(std::vector<std::string> items) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (std::string& s : items) {
    if (!s.empty() && seen.insert(s).second) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Evaluator::Evaluator(EvalOptions options) : options_(std::move(options)) {
  std::sort(options_.scope.begin(), options_.scope.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (auto& [prefix, counted] : options_.scope) prefix = Key(prefix);
}

bool Evaluator::Counts(std::string_view key) const {
  for (const auto& [prefix, counted] : options_.scope) {
    if (key.substr(0, prefix.size()) == prefix) return counted;
  }
  return true;
}

void Evaluator::AddLevel(Level* l, const std::vector<std::string>& gold,
                         const std::vector<std::string>& ranked) {
  ++l->documents;
  std::set<std::string> g(gold.begin(), gold.end());
  l->gold += g.size();
  l->predicted += ranked.size();
  size_t hits = 0;
  double ap = 0;
  for (size_t k = 0; k < ranked.size(); ++k) {
    if (g.contains(ranked[k])) {
      ++hits;
      ap += static_cast<double>(hits) / static_cast<double>(k + 1);
    }
  }
  l->correct += hits;
  if (!ranked.empty()) {
    ++l->ranked;
    if (!g.empty()) l->ap_sum += ap / static_cast<double>(g.size());
  }
}

void Evaluator::Add(std::string_view id, const std::vector<std::string>& gold_codes,
                    const std::vector<std::string>& ranked_codes,
                    const std::vector<std::string>& must_not) {
  std::vector<std::string> gold, ranked;
  for (const std::string& c : gold_codes) gold.push_back(Key(c));
  for (const std::string& c : ranked_codes) {
    std::string k = Key(c);
    if (Counts(k)) ranked.push_back(std::move(k));
  }
  gold = Unique(std::move(gold));
  // Across editions: a predicted code below a gold code that this code set
  // only knows as a header stands for that gold code.
  if (options_.code_set != nullptr) {
    for (const std::string& g : gold) {
      std::optional<Code> gc = options_.code_set->Find(g);
      if (!gc || gc->billable()) continue;
      for (std::string& p : ranked) {
        if (p.size() > g.size() && p.compare(0, g.size(), g) == 0 &&
            std::find(gold.begin(), gold.end(), p) == gold.end()) {
          p = g;
        }
      }
    }
  }
  ranked = Unique(std::move(ranked));
  std::set<std::string> traps;
  for (const std::string& c : must_not) traps.insert(Key(c));
  for (const std::string& c : ranked) {
    if (traps.contains(c)) {
      ++trap_hits_;
      if (trap_examples_.size() < 50) trap_examples_.emplace_back(std::string(id), c);
    }
  }
  AddLevel(&code_, gold, ranked);
  auto categories = [](const std::vector<std::string>& codes) {
    std::vector<std::string> out;
    for (const std::string& c : codes) out.push_back(c.substr(0, 3));
    return Unique(std::move(out));
  };
  AddLevel(&category_, categories(gold), categories(ranked));
  if (options_.hcc_model != nullptr) {
    auto hccs = [&](const std::vector<std::string>& codes) {
      std::vector<std::string_view> views(codes.begin(), codes.end());
      absl::StatusOr<RiskScore> s = options_.hcc_model->Categorize(views);
      std::vector<std::string> out;
      if (!s.ok()) return out;
      std::set<int> kept;
      for (const HccResult& h : s->hccs) kept.insert(h.hcc);
      // In the rank order of the codes that produced them.
      for (const CodeResult& c : s->codes) {
        for (int i = 0; i < c.hcc_count; ++i) {
          if (kept.contains(c.hccs[i])) out.push_back(internal::StrCat("HCC", c.hccs[i]));
        }
      }
      return Unique(std::move(out));
    };
    AddLevel(&hcc_, hccs(gold), hccs(ranked));
  }
}

EvalMetrics Evaluator::Finish(const Level& l) {
  EvalMetrics m;
  m.documents = l.documents;
  m.ranked_documents = l.ranked;
  m.gold = l.gold;
  m.predicted = l.predicted;
  m.correct = l.correct;
  m.precision = l.predicted ? static_cast<double>(l.correct) / l.predicted : 0;
  m.recall = l.gold ? static_cast<double>(l.correct) / l.gold : 0;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  m.map = l.ranked ? l.ap_sum / static_cast<double>(l.ranked) : 0;
  return m;
}

EvalReport Evaluator::Report() const {
  EvalReport r;
  r.code = Finish(code_);
  r.category = Finish(category_);
  r.hcc = Finish(hcc_);
  r.trap_hits = trap_hits_;
  r.trap_examples = trap_examples_;
  return r;
}

absl::StatusOr<std::vector<std::pair<std::string, bool>>> Evaluator::ParseScope(
    std::string_view text) {
  std::vector<std::pair<std::string, bool>> out;
  int line_no = 0;
  for (std::string_view line : internal::Split(text, '\n')) {
    ++line_no;
    line = internal::Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> f = internal::Split(line, '\t');
    if (internal::Trim(f[0]) == "prefix") continue;  // header
    if (f.size() < 2 || (internal::Trim(f[1]) != "count" && internal::Trim(f[1]) != "ignore") ||
        internal::Trim(f[0]).empty()) {
      return absl::InvalidArgumentError(internal::StrCat(
          "scope line ", line_no, ": expected PREFIX<TAB>count|ignore"));
    }
    out.emplace_back(std::string(internal::Trim(f[0])), internal::Trim(f[1]) == "count");
  }
  return out;
}

}  // namespace chartcoder
