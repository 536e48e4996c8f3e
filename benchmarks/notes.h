// The synthetic notes of benchmarks/data/ (no real patient data), loaded for
// the text and context benchmarks, and a reader for folders of such files.
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

// The contents of every *.txt file of `dir`, in name order; aborts when there
// is none.
inline std::vector<std::string> ReadTextFiles(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (out.empty()) {
    std::fprintf(stderr, "no *.txt files in %s\n", dir.c_str());
    std::abort();
  }
  return out;
}

// Every benchmarks/data/*.txt, in name order.
inline const std::vector<std::string>& Notes() {
  static const std::vector<std::string>* const kNotes =
      new std::vector<std::string>(ReadTextFiles(CHARTCODER_SOURCE_DIR "/benchmarks/data"));
  return *kNotes;
}

inline size_t TotalBytes(const std::vector<std::string>& notes) {
  size_t n = 0;
  for (const std::string& s : notes) n += s.size();
  return n;
}

}  // namespace chartcoder::bench

#endif  // CHARTCODER_BENCHMARKS_NOTES_H_
