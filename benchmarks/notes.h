// The synthetic notes of benchmarks/data/ (no real patient data), loaded for
// the text and context benchmarks.
#ifndef CHARTCODER_BENCHMARKS_NOTES_H_
#define CHARTCODER_BENCHMARKS_NOTES_H_

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace chartcoder::bench {

// Every benchmarks/data/*.txt, in name order.
inline const std::vector<std::string>& Notes() {
  static const std::vector<std::string>* const kNotes = [] {
    auto* notes = new std::vector<std::string>;
    std::vector<std::filesystem::path> files;
    for (const auto& e :
         std::filesystem::directory_iterator(CHARTCODER_SOURCE_DIR "/benchmarks/data")) {
      if (e.path().extension() == ".txt") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      notes->emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (notes->empty()) {
      std::fprintf(stderr, "no notes in benchmarks/data\n");
      std::abort();
    }
    return notes;
  }();
  return *kNotes;
}

inline size_t TotalBytes(const std::vector<std::string>& notes) {
  size_t n = 0;
  for (const std::string& s : notes) n += s.size();
  return n;
}

}  // namespace chartcoder::bench

#endif  // CHARTCODER_BENCHMARKS_NOTES_H_
