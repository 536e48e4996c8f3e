// Runs a libFuzzer target without libFuzzer: every file named on the command
// line (or found in a named folder) is passed to LLVMFuzzerTestOneInput, then
// 300 deterministic mutations of it (bit flips, byte overwrites, truncations,
// appended bytes). Exit code 0 means no input crashed the target.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

void RunWithMutations(const std::string& seed, uint32_t salt) {
  Run(seed);
  std::mt19937 rng(0x5eed ^ salt);
  for (int i = 0; i < 300; ++i) {
    std::string m = seed;
    switch (i % 4) {
      case 0:
        if (!m.empty()) m[rng() % m.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        for (int k = 0; k < 4 && !m.empty(); ++k) m[rng() % m.size()] = static_cast<char>(rng());
        break;
      case 2:
        m.resize(m.empty() ? 0 : rng() % m.size());
        break;
      case 3:
        for (int k = 0; k < 8; ++k) m.push_back(static_cast<char>(rng()));
        break;
    }
    Run(m);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "fuzz driver: no corpus files given\n");
    return 1;
  }
  Run("");
  uint32_t salt = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    RunWithMutations(bytes, salt++);
  }
  std::printf("fuzz driver: %zu seeds, %zu inputs, no crash\n", files.size(),
              1 + files.size() * 301);
  return 0;
}
