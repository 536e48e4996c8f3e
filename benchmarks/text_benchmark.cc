// Benchmarks of the clinical text front end: ChartText (validation and the
// normalized view), and the whole front end (normalize + tokenize + sentences
// + sections), against a plain ICU word BreakIterator pass over the same text.
//   build/bin/text_benchmark
#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/utext.h>

#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/notes.h"
#include "chartcoder/text.h"
#include "chartcoder/tokenizer.h"

namespace {

using chartcoder::bench::Notes;
using chartcoder::bench::TotalBytes;

const chartcoder::TextAnalyzer& Analyzer() {
  static const chartcoder::TextAnalyzer* const kAnalyzer = [] {
    auto a = chartcoder::TextAnalyzer::Create({});
    if (!a.ok()) std::abort();
    return a->release();
  }();
  return *kAnalyzer;
}

// The notes with most vowels accented: a worst case for the ICU path (about
// a fifth of the characters are not ASCII).
const std::vector<std::string>& AccentedNotes() {
  static const std::vector<std::string>* const kNotes = [] {
    auto* out = new std::vector<std::string>;
    for (const std::string& note : Notes()) {
      std::string s;
      for (char c : note) {
        if (c == 'a')
          s += "\xC3\xA1";
        else if (c == 'e')
          s += "\xC3\xA9";
        else if (c == 'o')
          s += "\xC3\xB6";
        else
          s += c;
      }
      out->push_back(std::move(s));
    }
    return out;
  }();
  return *kNotes;
}

// One large document: the notes repeated to about 1 MiB.
const std::string& LargeText() {
  static const std::string* const kText = [] {
    auto* s = new std::string;
    while (s->size() < (size_t{1} << 20)) {
      for (const std::string& note : Notes()) *s += note + "\n\n";
    }
    return s;
  }();
  return *kText;
}

void FrontEnd(benchmark::State& state, const std::vector<std::string>& notes) {
  size_t tokens = 0;
  for (auto _ : state) {
    for (const std::string& note : notes) {
      absl::StatusOr<chartcoder::Document> d = Analyzer().Analyze(note);
      if (!d.ok()) state.SkipWithError("Analyze failed");
      tokens += d->tokens().size();
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TotalBytes(notes)));
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

// normalize + tokenize + sentences + sections, one call per note.
void BM_FrontEndNotes(benchmark::State& state) { FrontEnd(state, Notes()); }
BENCHMARK(BM_FrontEndNotes);

// The same over one 1 MiB document.
void BM_FrontEndLargeDocument(benchmark::State& state) {
  FrontEnd(state, std::vector<std::string>{LargeText()});
}
BENCHMARK(BM_FrontEndLargeDocument)->Unit(benchmark::kMillisecond);

// Text that is mostly not ASCII: the ICU path.
void BM_FrontEndAccented(benchmark::State& state) { FrontEnd(state, AccentedNotes()); }
BENCHMARK(BM_FrontEndAccented);

// ChartText alone: UTF-8 validation, copy, normalized view and offset map.
void ChartText(benchmark::State& state, const std::vector<std::string>& notes) {
  for (auto _ : state) {
    for (const std::string& note : notes) {
      absl::StatusOr<chartcoder::ChartText> t = chartcoder::ChartText::FromBytes(note);
      if (!t.ok()) state.SkipWithError("FromBytes failed");
      benchmark::DoNotOptimize(t);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TotalBytes(notes)));
}
void BM_ChartTextNotes(benchmark::State& state) { ChartText(state, Notes()); }
BENCHMARK(BM_ChartTextNotes);
void BM_ChartTextAccented(benchmark::State& state) { ChartText(state, AccentedNotes()); }
BENCHMARK(BM_ChartTextAccented);

// Baseline: a plain ICU word BreakIterator over the same notes (UTF-8 UText,
// each boundary and its rule status read), no normalization, no clinical
// rules, no sentences or sections.
void IcuWordBreak(benchmark::State& state, const std::vector<std::string>& notes) {
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> bi(
      icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), err));
  if (U_FAILURE(err)) state.SkipWithError("ICU");
  size_t words = 0;
  for (auto _ : state) {
    for (const std::string& note : notes) {
      UText ut = UTEXT_INITIALIZER;
      utext_openUTF8(&ut, note.data(), static_cast<int64_t>(note.size()), &err);
      bi->setText(&ut, err);
      for (int32_t b = bi->first(); b != icu::BreakIterator::DONE; b = bi->next()) {
        words += bi->getRuleStatus() >= UBRK_WORD_NONE_LIMIT;
      }
      utext_close(&ut);
    }
  }
  benchmark::DoNotOptimize(words);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TotalBytes(notes)));
}
void BM_IcuWordBreakBaseline(benchmark::State& state) { IcuWordBreak(state, Notes()); }
BENCHMARK(BM_IcuWordBreakBaseline);
void BM_IcuWordBreakBaselineAccented(benchmark::State& state) {
  IcuWordBreak(state, AccentedNotes());
}
BENCHMARK(BM_IcuWordBreakBaselineAccented);
void BM_IcuWordBreakBaselineLargeDocument(benchmark::State& state) {
  IcuWordBreak(state, std::vector<std::string>{LargeText()});
}
BENCHMARK(BM_IcuWordBreakBaselineLargeDocument)->Unit(benchmark::kMillisecond);

// Creating the analyzer: section rules compiled into the header trie.
void BM_TextAnalyzerCreate(benchmark::State& state) {
  for (auto _ : state) {
    auto a = chartcoder::TextAnalyzer::Create({});
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_TextAnalyzerCreate)->Unit(benchmark::kMillisecond);

}  // namespace
