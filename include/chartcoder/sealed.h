// chartcoder/sealed.h: the sealed-file format: charts and results encrypted
// and authenticated at rest, streamed in constant memory.
//
//   std::string sealed;
//   chartcoder::StringSink sink(&sealed);
//   auto writer = chartcoder::SealedWriter::Create(&sink, keys, {});
//   if (!writer.ok()) return writer.status();
//   CC_RETURN_IF_ERROR((*writer)->Append(chart_bytes));
//   CC_RETURN_IF_ERROR((*writer)->Finish());
//
//   chartcoder::StringSource source(sealed);
//   auto reader = chartcoder::SealedReader::Open(&source, keys);
//   std::string_view chunk;
//   while (true) {  // each chunk is authenticated before it is returned
//     absl::StatusOr<bool> more = (*reader)->Next(&chunk);
//     if (!more.ok()) return more.status();  // DataLoss: changed or truncated
//     if (!*more) break;                     // the final segment verified
//     Use(chunk);
//   }
//
// A sealed file is a 192-byte header (magic, version, segment size, salt,
// nonce prefix, key id, and the file's random data key wrapped by a
// key-encryption key with AES-256-GCM), then the payload as AES-256-GCM
// segments of a fixed plaintext size, each bound to its index, to the header
// and to whether it is the last. Truncation, reordering, splicing, appended
// bytes and flipped bits are all detected. The byte layout and the reasoning
// are in docs/sealed-format.md.
#ifndef CHARTCODER_SEALED_H_
#define CHARTCODER_SEALED_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chartcoder/keys.h"

namespace chartcoder {

namespace internal {
struct SealedWriterFactory;
}  // namespace internal

// ---------------------------------------------------------------------------
// Byte streams

// Where bytes come from. One per thread.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next bytes: at most `max_bytes` (> 0), at least one unless the stream
  // has ended; an empty view means the end. The view stays valid until the
  // next call. Errors are the source's own (NotFound, DataLoss, Internal...).
  virtual absl::StatusOr<std::string_view> Read(size_t max_bytes) = 0;
};

// Where bytes go. One per thread.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual absl::Status Append(std::string_view bytes) = 0;
};

// Reads from memory the caller keeps alive; never copies.
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view bytes) : rest_(bytes) {}
  absl::StatusOr<std::string_view> Read(size_t max_bytes) override;

 private:
  std::string_view rest_;
};

// Appends to a string the caller keeps alive.
class StringSink final : public ByteSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  absl::Status Append(std::string_view bytes) override {
    out_->append(bytes);
    return absl::OkStatus();
  }

 private:
  std::string* out_;
};

// ---------------------------------------------------------------------------
// The format

// The first 8 bytes of every sealed file: 0x89 "CCSEAL" 0x0A. 0x89 can never
// start UTF-8 text, so no plain chart is ever mistaken for a sealed one.
inline constexpr std::string_view kSealedMagic =
    "\x89"
    "CCSEAL\n";
inline constexpr uint8_t kSealedFormatVersion = 1;
inline constexpr size_t kSealedHeaderSize = 192;
// Per-segment overhead: the AES-GCM tag.
inline constexpr size_t kSealedTagSize = 16;
// Plaintext bytes per segment: the default, and the accepted range.
inline constexpr uint32_t kDefaultSegmentSize = 64 * 1024;
inline constexpr uint32_t kMinSegmentSize = 16;
inline constexpr uint32_t kMaxSegmentSize = 4 * 1024 * 1024;

// True when `prefix` (the first bytes of some input, any length) is the start
// of a sealed file, or of one whose magic has up to 3 flipped bits: a damaged
// sealed file must fail as sealed, never be read as plain text.
bool LooksSealed(std::string_view prefix);

// What a header says, without any key: no secret is in here.
struct SealedHeaderInfo {
  int format_version = 0;     // kSealedFormatVersion
  std::string key_id;         // names the key-encryption key
  uint32_t segment_size = 0;  // plaintext bytes per full segment
};

// Parses the first kSealedHeaderSize bytes of a sealed file (more are
// ignored). Checks structure only; the key wrap is not verified.
// DataLoss: not a sealed file, truncated header, bad field. FailedPrecondition:
// a format version or algorithm suite this build does not know.
absl::StatusOr<SealedHeaderInfo> InspectSealed(std::string_view header_bytes);

// The header plus what the file size implies.
struct SealedFileInfo {
  SealedHeaderInfo header;
  uint64_t file_size = 0;
  // Consistent with the format: false if the size cannot be a complete file
  // (truncated or with bytes appended); the counts below are then 0.
  bool size_consistent = false;
  uint64_t segment_count = 0;
  uint64_t plaintext_size = 0;
};

// InspectSealed on a file, plus the sizes its length implies. Reads only the
// header: nothing is decrypted and no key is needed. NotFound if the file does
// not exist; other codes as InspectSealed.
absl::StatusOr<SealedFileInfo> InspectSealedFile(const std::string& path);

// The size of the sealed form of `plaintext_size` bytes.
uint64_t SealedSize(uint64_t plaintext_size, uint32_t segment_size = kDefaultSegmentSize);

// ---------------------------------------------------------------------------
// Writing

struct SealedWriterOptions {
  // The key-encryption key to wrap the data key with; empty = the provider's
  // active key.
  std::string key_id;
  // Plaintext bytes per segment, kMinSegmentSize to kMaxSegmentSize. Larger
  // segments cost less per byte; a reader holds one segment in memory.
  uint32_t segment_size = kDefaultSegmentSize;
};

// Encrypts a stream into a sealed file: Append plaintext any number of times,
// then Finish. Memory is one segment whatever the stream's length. Not
// thread-safe; one per stream. Keys and buffered plaintext are wiped when the
// writer dies. Without Finish the output is incomplete, and a reader rejects
// it as truncated.
class SealedWriter {
 public:
  // Generates a data key, wraps it with the key-encryption key and writes the
  // header to `sink` (not owned; must outlive the writer). NotFound: the key
  // id is not in `keys`; FailedPrecondition: no active key; InvalidArgument:
  // bad options; errors from the sink.
  static absl::StatusOr<std::unique_ptr<SealedWriter>> Create(ByteSink* sink,
                                                              const KeyProvider& keys,
                                                              const SealedWriterOptions& options);
  ~SealedWriter();

  // Encrypts and writes every full segment; keeps the remainder.
  // ResourceExhausted past 2^32 - 1 segments; errors from the sink;
  // FailedPrecondition after Finish or after an error.
  absl::Status Append(std::string_view plaintext);
  // Writes the final segment (always shorter than a full one, possibly
  // empty). FailedPrecondition if called twice or after an error.
  absl::Status Finish();

  const SealedHeaderInfo& header() const { return header_; }
  uint64_t plaintext_bytes() const { return plaintext_bytes_; }
  uint64_t sealed_bytes() const { return sealed_bytes_; }

 private:
  friend struct internal::SealedWriterFactory;
  class Impl;
  SealedWriter(std::unique_ptr<Impl> impl, ByteSink* sink, SealedHeaderInfo header);
  absl::Status SealSegment(const char* data, size_t n, bool last);

  std::unique_ptr<Impl> impl_;
  ByteSink* sink_;
  SealedHeaderInfo header_;
  uint64_t plaintext_bytes_ = 0;
  uint64_t sealed_bytes_ = 0;
  bool finished_ = false;
  bool failed_ = false;
};

// ---------------------------------------------------------------------------
// Reading

// Decrypts a sealed stream one segment at a time. Each segment's plaintext is
// returned only after its tag verified; the end of the stream is reported
// only after the final segment verified and the source ended right after it,
// so a caller that stops early or ignores an error never mistakes a prefix for
// the whole. Memory is two segments whatever the stream's length. Not
// thread-safe; one per stream. Keys and plaintext buffers are wiped when the
// reader dies.
class SealedReader {
 public:
  // Reads and checks the header from `source` (not owned; must outlive the
  // reader) and unwraps the data key.
  //   DataLoss: empty input, not a sealed file, truncated or damaged header,
  //     or the data key does not unwrap (wrong key, or the header was changed).
  //   NotFound: the header's key id is not in `keys`.
  //   FailedPrecondition: unknown format version or algorithm suite.
  static absl::StatusOr<std::unique_ptr<SealedReader>> Open(ByteSource* source,
                                                            const KeyProvider& keys);
  ~SealedReader();

  // Decrypts the next segment into `*plaintext` (valid until the next call)
  // and returns true; returns false once the final segment has verified and
  // the stream ended. DataLoss when a segment does not verify (changed,
  // reordered, spliced), the stream is truncated, or bytes follow the final
  // segment. After an error every call returns the same error.
  absl::StatusOr<bool> Next(std::string_view* plaintext);

  const SealedHeaderInfo& header() const { return header_; }
  // Authenticated plaintext bytes returned so far.
  uint64_t plaintext_bytes() const { return plaintext_bytes_; }

 private:
  class Impl;
  SealedReader(std::unique_ptr<Impl> impl, ByteSource* source, SealedHeaderInfo header);
  absl::Status Fail(absl::Status status);

  std::unique_ptr<Impl> impl_;
  ByteSource* source_;
  SealedHeaderInfo header_;
  uint64_t plaintext_bytes_ = 0;
  uint32_t next_index_ = 0;
  bool done_ = false;
  absl::Status error_;
};

// ---------------------------------------------------------------------------
// One-shot helpers and key rotation

// Seals `plaintext` in memory (queue jobs, Lambda events). Codes as
// SealedWriter::Create.
absl::StatusOr<std::string> SealBytes(std::string_view plaintext, const KeyProvider& keys,
                                      const SealedWriterOptions& options = {});
// Opens a sealed buffer. Codes as SealedReader, plus ResourceExhausted when
// the plaintext exceeds `max_bytes`.
absl::StatusOr<std::string> UnsealBytes(std::string_view sealed, const KeyProvider& keys,
                                        size_t max_bytes = SIZE_MAX);

struct RewrapResult {
  std::string old_key_id;
  std::string new_key_id;
  bool changed = false;  // false when the file already used new_key_id
};

// Re-wraps the data key of the sealed file at `path` under `new_key_id`
// (empty: the provider's active key) without decrypting the payload: the
// header is rewritten and the payload bytes copied unchanged into a new file
// that atomically replaces the old one (same permissions). The old key must
// still be in `keys`. Codes as SealedReader::Open for the header, NotFound
// for an unknown new key, plus file-system errors.
absl::StatusOr<RewrapResult> RewrapSealedFile(const std::string& path, const KeyProvider& keys,
                                              std::string_view new_key_id = "");

}  // namespace chartcoder

#endif  // CHARTCODER_SEALED_H_
