// The example charts of examples/charts/ (synthetic, no real patient data) and
// the coding components over the build's data pack, loaded once for the
// extractor, coder and pipeline benchmarks.
#ifndef CHARTCODER_BENCHMARKS_CHARTS_H_
#define CHARTCODER_BENCHMARKS_CHARTS_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/notes.h"
#include "chartcoder/coder.h"
#include "chartcoder/codeset.h"
#include "chartcoder/context.h"
#include "chartcoder/extractor.h"
#include "chartcoder/pipeline.h"
#include "chartcoder/tokenizer.h"

namespace chartcoder::bench {

template <typename T>
T* OrDie(absl::StatusOr<std::unique_ptr<T>> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(v.status().message()).c_str());
    std::abort();
  }
  return v->release();
}

// Every examples/charts/*.txt, in name order.
inline const std::vector<std::string>& ExampleCharts() {
  static const std::vector<std::string>* const kCharts =
      new std::vector<std::string>(ReadTextFiles(CHARTCODER_SOURCE_DIR "/examples/charts"));
  return *kCharts;
}

inline size_t ChartBytes() {
  size_t n = 0;
  for (const std::string& s : ExampleCharts()) n += s.size();
  return n;
}

// Built out of line: GCC 12 at -O3 warns (falsely) about the inlined copy of
// ContextOptions' default section_defaults list.
[[gnu::noinline]] inline const ContextAnalyzer* MakeContext(const CodeSet* codes) {
  ContextOptions xo;
  xo.code_set = codes;
  return OrDie(ContextAnalyzer::Create(xo), "context");
}

[[gnu::noinline]] inline const Pipeline* MakePipeline(std::shared_ptr<const CodeSet> codes) {
  PipelineOptions po;
  po.code_set = std::move(codes);
  return OrDie(Pipeline::Create(po), "pipeline");
}

// The pipeline's components, built as Pipeline::Create builds them.
struct Components {
  std::shared_ptr<const CodeSet> codes;
  const TextAnalyzer* analyzer;
  const ContextAnalyzer* context;
  const Extractor* extractor;  // fills assertions (context)
  const Extractor* bare_extractor;  // no context analyzer
  const Coder* coder;
  const Pipeline* pipeline;  // V24 and V28
};

inline const Components& Get() {
  static const Components* const kComponents = [] {
    auto* c = new Components;
    CodeSetOptions co;
    co.data_pack = CHARTCODER_TEST_PACK;
    c->codes = std::shared_ptr<const CodeSet>(OrDie(CodeSet::Create(co), "pack"));
    TextAnalyzerOptions to;
    to.code_set = c->codes.get();
    c->analyzer = OrDie(TextAnalyzer::Create(to), "text analyzer");
    c->context = MakeContext(c->codes.get());
    ExtractorOptions eo;
    eo.code_set = c->codes.get();
    c->bare_extractor = OrDie(Extractor::Create(eo), "extractor");
    eo.context = c->context;
    c->extractor = OrDie(Extractor::Create(eo), "extractor");
    CoderOptions ko;
    ko.code_set = c->codes.get();
    c->coder = OrDie(Coder::Create(ko), "coder");
    c->pipeline = MakePipeline(c->codes);
    return c;
  }();
  return *kComponents;
}

// The example charts analyzed (tokens, sentences, sections), once.
inline const std::vector<Document>& ExampleDocuments() {
  static const std::vector<Document>* const kDocs = [] {
    auto* docs = new std::vector<Document>;
    for (const std::string& chart : ExampleCharts()) {
      absl::StatusOr<Document> d = Get().analyzer->Analyze(chart);
      if (!d.ok()) std::abort();
      docs->push_back(std::move(*d));
    }
    return docs;
  }();
  return *kDocs;
}

}  // namespace chartcoder::bench

#endif  // CHARTCODER_BENCHMARKS_CHARTS_H_
