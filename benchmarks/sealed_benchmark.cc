// Benchmarks of the sealed-file format: sealing and opening 1 GiB streamed
// through SealedWriter / SealedReader in 1 MiB appends, and in the same run
// the baseline it is measured against, raw AES-256-GCM through EVP on 16 KiB
// buffers (what `openssl speed -evp aes-256-gcm -bytes 16384` does).
//   build/bin/sealed_benchmark --benchmark_filter=Sealed
#include <openssl/evp.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "chartcoder/keys.h"
#include "chartcoder/sealed.h"

namespace {

constexpr size_t kStream = size_t{1} << 30;  // 1 GiB per iteration
constexpr size_t kAppend = size_t{1} << 20;  // the caller's buffer

const chartcoder::KeyProvider& Keys() {
  static const chartcoder::KeyProvider* const keys = [] {
    std::vector<chartcoder::InMemoryKeyProvider::Entry> entries;
    entries.push_back({"bench", *chartcoder::SecretKey::Generate()});
    return new chartcoder::InMemoryKeyProvider(std::move(entries), "bench", "benchmark keys");
  }();
  return *keys;
}

const std::string& Chunk() {
  static const std::string* const chunk = [] {
    auto* s = new std::string(kAppend, '\0');
    for (size_t i = 0; i < s->size(); ++i) (*s)[i] = static_cast<char>('a' + i * 7 % 26);
    return s;
  }();
  return *chunk;
}

// Counts what it is given, like a socket or a page cache that keeps up.
class CountingSink final : public chartcoder::ByteSink {
 public:
  absl::Status Append(std::string_view bytes) override {
    bytes_ += bytes.size();
    return absl::OkStatus();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

// Appends kStream bytes to `w` in kAppend pieces.
void AppendStream(chartcoder::SealedWriter& w) {
  for (size_t done = 0; done < kStream; done += kAppend) {
    if (!w.Append(Chunk()).ok()) std::abort();
  }
}

void BM_SealedSeal(benchmark::State& state) {
  chartcoder::SealedWriterOptions options;
  options.segment_size = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    CountingSink sink;
    auto w = chartcoder::SealedWriter::Create(&sink, Keys(), options);
    if (!w.ok()) std::abort();
    AppendStream(**w);
    if (!(*w)->Finish().ok()) std::abort();
    benchmark::DoNotOptimize(sink.bytes());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kStream));
}
BENCHMARK(BM_SealedSeal)
    ->Arg(16 << 10)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1);

void BM_SealedOpen(benchmark::State& state) {
  chartcoder::SealedWriterOptions options;
  options.segment_size = static_cast<uint32_t>(state.range(0));
  std::string sealed;
  sealed.reserve(chartcoder::SealedSize(kStream, options.segment_size));
  {
    chartcoder::StringSink sink(&sealed);
    auto w = chartcoder::SealedWriter::Create(&sink, Keys(), options);
    if (!w.ok()) std::abort();
    AppendStream(**w);
    if (!(*w)->Finish().ok()) std::abort();
  }
  for (auto _ : state) {
    chartcoder::StringSource source(sealed);
    auto r = chartcoder::SealedReader::Open(&source, Keys());
    if (!r.ok()) std::abort();
    std::string_view chunk;
    size_t total = 0;
    while (true) {
      absl::StatusOr<bool> more = (*r)->Next(&chunk);
      if (!more.ok()) std::abort();
      if (!*more) break;
      total += chunk.size();
    }
    if (total != kStream) std::abort();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kStream));
}
BENCHMARK(BM_SealedOpen)->Arg(64 << 10)->Unit(benchmark::kMillisecond)->MinTime(1);

// The baseline: AES-256-GCM on one buffer of state.range(0) bytes at a time,
// a fresh nonce and a tag per buffer, straight through EVP; state.range(1)
// is 0 to encrypt, 1 to decrypt (tag check included).
void BM_SealedAesGcmBaseline(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const int encrypt = state.range(1) == 0 ? 1 : 0;
  std::vector<unsigned char> in(n, 'x'), out(n), key(32, 7), iv(12, 0), tag(16);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  EVP_CipherInit_ex2(ctx, gcm, key.data(), iv.data(), 1, nullptr);
  if (!encrypt) {  // a tag that verifies, so decryption does the full work
    int len = 0;
    EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(n));
    EVP_CipherFinal_ex(ctx, out.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data());
    in.swap(out);
  }
  for (auto _ : state) {
    int len = 0;
    EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv.data(), encrypt, nullptr);
    EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(n));
    if (!encrypt) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data());
    if (EVP_CipherFinal_ex(ctx, out.data() + len, &len) != 1) std::abort();
    if (encrypt) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data());
    benchmark::DoNotOptimize(tag.data());
  }
  EVP_CIPHER_free(gcm);
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_SealedAesGcmBaseline)
    ->Args({16 << 10, 0})
    ->Args({64 << 10, 0})
    ->Args({64 << 10, 1})
    ->MinTime(1);

}  // namespace
