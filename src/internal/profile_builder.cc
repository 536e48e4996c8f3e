#include "src/internal/profile_builder.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "simdjson.h"
#include "src/internal/lexicon_words.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {

void TextGrams(std::string_view text, int max_gram, std::vector<std::string>* out) {
  std::vector<LexWord> words;
  LexiconWords(text, &words);
  // Content words only; a sentence end or a connector breaks a run.
  std::vector<std::string> run;
  auto emit = [&] {
    for (size_t i = 0; i < run.size(); ++i) {
      std::string g;
      for (int n = 1; n <= max_gram && i + n <= run.size(); ++n) {
        if (n > 1) g.push_back(' ');
        g += run[i + n - 1];
        out->push_back(g);
      }
    }
    run.clear();
  };
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) {
      std::string_view between =
          text.substr(words[i - 1].end, words[i].begin - words[i - 1].end);
      if (between.find_first_of(".;:\n") != std::string_view::npos) emit();
    }
    if (IsLexiconStopWord(words[i].stem)) {
      emit();
      continue;
    }
    run.push_back(words[i].stem);
  }
  emit();
}

absl::Status LearnProfile(const std::string& path, const ProfileOptions& options,
                          DelimitedTable* table) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path, ": cannot open training corpus"));
  absl::flat_hash_map<std::string, int> df;
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, int>> co;
  simdjson::dom::parser parser;
  std::string line;
  int line_no = 0, documents = 0;
  std::vector<std::string> grams;
  while (std::getline(in, line)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    simdjson::dom::element doc;
    std::string_view text;
    simdjson::dom::array codes;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS ||
        doc["text"].get_string().get(text) != simdjson::SUCCESS ||
        doc["codes"].get_array().get(codes) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(
          StrCat(path, ":", line_no, ": expected {\"text\": ..., \"codes\": [...]}"));
    }
    ++documents;
    grams.clear();
    TextGrams(text, options.max_gram, &grams);
    std::sort(grams.begin(), grams.end());
    grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
    std::set<std::string> gold;
    for (simdjson::dom::element c : codes) {
      std::string_view s;
      if (c.get_string().get(s) == simdjson::SUCCESS) gold.insert(AsciiUpper(s));
    }
    for (const std::string& g : grams) {
      ++df[g];
      auto& row = co[g];
      for (const std::string& c : gold) ++row[c];
    }
  }
  table->rows.clear();
  table->line_numbers.clear();
  table->rows.push_back({"gram", "code", "documents", "precision"});
  table->line_numbers.push_back(0);
  std::map<std::string, std::vector<std::pair<double, std::vector<std::string>>>> kept;
  for (const auto& [g, row] : co) {
    const int n = df[g];
    std::vector<std::pair<double, std::vector<std::string>>> rows;
    for (const auto& [c, k] : row) {
      const double precision = static_cast<double>(k) / n;
      if (k < options.min_documents || precision < options.min_precision) continue;
      rows.push_back({precision, {g, c, StrCat(k), StrCat(precision)}});
    }
    // Ties in precision go by code: the table (and which codes a gram keeps)
    // must not depend on hash order, which differs between processes.
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second[1] < b.second[1];
    });
    if (static_cast<int>(rows.size()) > options.max_codes_per_gram) {
      rows.resize(options.max_codes_per_gram);
    }
    if (!rows.empty()) kept[g] = std::move(rows);
  }
  for (auto& [g, rows] : kept) {
    for (auto& [p, r] : rows) {
      table->rows.push_back(std::move(r));
      table->line_numbers.push_back(0);
    }
  }
  if (documents == 0) return absl::InvalidArgumentError(StrCat(path, ": no documents"));
  return absl::OkStatus();
}

}  // namespace chartcoder::internal
