// Fuzzes the sealed-file reader and chart_io's sealed/plain detection: any
// bytes either open to plaintext that re-seals to a file of exactly the same
// size, or give a clean error status; a reader never hands out more than one
// segment at a time nor anything after an error.
//
// The seeds (made at build time by fuzz/CMakeLists.txt) are sealed with the
// key below, so mutations get past the header into the segments. A coverage-
// guided run instruments the library sources too; from the repository (one
// command, split here):
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -I.
//     -Ibuild/generated fuzz/sealed_reader_fuzzer.cc src/sealed.cc src/keys.cc
//     src/chart_io.cc src/internal/{crypto,file_io,strings}.cc -o /tmp/sealed_fuzzer
//     $(pkg-config --libs absl_status absl_statusor absl_strings absl_time) -lcrypto
//   mkdir -p /tmp/corpus && cp build/fuzz/seeds/sealed_reader_fuzzer/* /tmp/corpus
//   /tmp/sealed_fuzzer -max_total_time=180 /tmp/corpus
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chartcoder/chart_io.h"
#include "chartcoder/keys.h"
#include "chartcoder/sealed.h"

namespace {

// "fuzz-key" = bytes 0x00..0x1f, i.e. CHARTCODER_KEY=fuzz-key:AAECAwQF...Hh8=
const chartcoder::KeyProvider& FuzzKeys() {
  static const chartcoder::KeyProvider* const keys = [] {
    std::string material;
    for (int i = 0; i < 32; ++i) material.push_back(static_cast<char>(i));
    std::vector<chartcoder::InMemoryKeyProvider::Entry> entries;
    entries.push_back({"fuzz-key", *chartcoder::SecretKey::FromBytes(material)});
    return new chartcoder::InMemoryKeyProvider(std::move(entries), "fuzz-key", "fuzz keys");
  }();
  return *keys;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const chartcoder::KeyProvider& keys = FuzzKeys();

  absl::StatusOr<chartcoder::SealedHeaderInfo> header = chartcoder::InspectSealed(input);
  if (header.ok()) {
    Check(chartcoder::LooksSealed(input));
    Check(header->segment_size >= chartcoder::kMinSegmentSize &&
          header->segment_size <= chartcoder::kMaxSegmentSize);
  }

  // Segment by segment.
  chartcoder::StringSource source(input);
  absl::StatusOr<std::unique_ptr<chartcoder::SealedReader>> reader =
      chartcoder::SealedReader::Open(&source, keys);
  std::string plaintext;
  bool complete = false;
  if (reader.ok()) {
    Check(header.ok());
    std::string_view chunk;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&chunk);
      if (!more.ok()) {
        Check(!(*reader)->Next(&chunk).ok() && chunk.empty());  // errors are sticky
        break;
      }
      if (!*more) {
        complete = true;
        break;
      }
      Check(!chunk.empty() && chunk.size() <= header->segment_size);
      plaintext.append(chunk);
    }
    Check(plaintext.size() == (*reader)->plaintext_bytes());
  }
  if (complete) {
    // The segmentation is a function of the length: a file that verified has
    // exactly the size sealing its plaintext again gives.
    Check(chartcoder::SealedSize(plaintext.size(), header->segment_size) == size);
    chartcoder::SealedWriterOptions options;
    options.segment_size = header->segment_size;
    absl::StatusOr<std::string> again = chartcoder::SealBytes(plaintext, keys, options);
    Check(again.ok() && again->size() == size);
    absl::StatusOr<std::string> back = chartcoder::UnsealBytes(*again, keys);
    Check(back.ok() && *back == plaintext);
  }

  // The chart_io path agrees with the reader.
  chartcoder::ChartReadOptions options;
  options.keys = &keys;
  options.allow_empty = true;
  options.max_bytes = size + 1;  // plaintext is never longer than its sealed form
  chartcoder::ChartSourceInfo info;
  absl::StatusOr<std::string> chart = chartcoder::ReadChartBytes(input, options, &info);
  if (chartcoder::LooksSealed(input)) {
    Check(chart.ok() == complete);
    if (chart.ok()) Check(info.sealed && *chart == plaintext);
  } else {
    Check(chart.ok() && !info.sealed && *chart == input);
  }
  // Without keys a sealed input is never returned as text.
  options.keys = nullptr;
  absl::StatusOr<std::string> keyless = chartcoder::ReadChartBytes(input, options);
  Check(keyless.ok() != chartcoder::LooksSealed(input));
  return 0;
}
