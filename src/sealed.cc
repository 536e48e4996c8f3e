#include "chartcoder/sealed.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "src/internal/crypto.h"
#include "src/internal/file_io.h"
#include "src/internal/sealed_format.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::StrCat;

constexpr size_t kMaxMagicBitFlips = 3;

uint32_t LoadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

void StoreBigEndian32(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Reads up to `n` bytes from `source` into `out` (which it resizes), fewer
// only at the end of the stream.
absl::Status ReadUpTo(ByteSource* source, size_t n, std::string* out) {
  out->clear();
  while (out->size() < n) {
    CC_ASSIGN_OR_RETURN(std::string_view got, source->Read(n - out->size()));
    if (got.empty()) break;
    out->append(got.substr(0, n - out->size()));
  }
  return absl::OkStatus();
}

absl::Status CheckSegmentSize(uint32_t segment_size) {
  if (segment_size < kMinSegmentSize || segment_size > kMaxSegmentSize) {
    return absl::InvalidArgumentError(StrCat("segment size ", segment_size, " is outside ",
                                             kMinSegmentSize, " to ", kMaxSegmentSize, " bytes"));
  }
  return absl::OkStatus();
}

// The parts of a parsed header the reader and rewrap need.
struct ParsedHeader {
  SealedHeaderInfo info;
  std::array<uint8_t, internal::kSaltSize> salt{};
  std::array<uint8_t, internal::kNoncePrefixSize> nonce_prefix{};
  std::array<uint8_t, internal::kSha256Size> digest{};
};

// Seals and opens the segments of one file. Segment i's nonce is the file's
// 7-byte prefix, i as 4 big-endian bytes and 1 for the final segment (0
// otherwise), as in Tink's AES-GCM-HKDF streaming; its associated data is the
// SHA-256 of the stream parameters (header bytes [0, 64)), then i and the
// final flag again. The key is HKDF-SHA-256 of the data key with the header's
// salt.
class SegmentCipher {
 public:
  static absl::StatusOr<SegmentCipher> Create(absl::Span<const uint8_t> data_key,
                                              const ParsedHeader& header) {
    std::array<uint8_t, internal::kAesKeySize> payload_key{};
    absl::Status s = internal::HkdfSha256(data_key, header.salt, internal::kPayloadKeyInfo,
                                          absl::MakeSpan(payload_key));
    absl::StatusOr<internal::AesGcm> gcm =
        s.ok() ? internal::AesGcm::Create(payload_key) : absl::StatusOr<internal::AesGcm>(s);
    internal::Cleanse(payload_key.data(), payload_key.size());
    if (!gcm.ok()) return gcm.status();
    return SegmentCipher(*std::move(gcm), header);
  }

  uint32_t segment_size() const { return segment_size_; }

  // Seals `plaintext` into `out` (plaintext.size() + 16 bytes).
  absl::Status Seal(uint32_t index, bool last, std::string_view plaintext, char* out) {
    Prepare(index, last);
    return gcm_.Seal(nonce_, aad_, internal::Bytes(plaintext), reinterpret_cast<uint8_t*>(out));
  }
  // Opens `sealed` into `out` (sealed.size() - 16 bytes); false if it does not verify.
  absl::StatusOr<bool> Open(uint32_t index, bool last, std::string_view sealed, char* out) {
    Prepare(index, last);
    return gcm_.Open(nonce_, aad_, internal::Bytes(sealed), reinterpret_cast<uint8_t*>(out));
  }

 private:
  SegmentCipher(internal::AesGcm gcm, const ParsedHeader& header)
      : gcm_(std::move(gcm)), segment_size_(header.info.segment_size) {
    std::memcpy(nonce_.data(), header.nonce_prefix.data(), header.nonce_prefix.size());
    std::memcpy(aad_.data(), header.digest.data(), header.digest.size());
  }
  void Prepare(uint32_t index, bool last) {
    StoreBigEndian32(index, nonce_.data() + internal::kNoncePrefixSize);
    nonce_[11] = last ? 1 : 0;
    StoreBigEndian32(index, aad_.data() + internal::kSha256Size);
    aad_[internal::kSha256Size + 4] = last ? 1 : 0;
  }

  internal::AesGcm gcm_;
  uint32_t segment_size_;
  std::array<uint8_t, internal::kGcmNonceSize> nonce_{};
  std::array<uint8_t, internal::kSha256Size + 5> aad_{};
};

absl::StatusOr<ParsedHeader> ParseHeader(std::string_view h) {
  if (h.empty()) return absl::DataLossError("empty input: not a sealed file");
  if (!LooksSealed(h)) return absl::DataLossError("not a sealed file (no sealed-file magic)");
  if (!h.starts_with(kSealedMagic.substr(0, std::min(h.size(), kSealedMagic.size())))) {
    return absl::DataLossError("the sealed-file magic is damaged");
  }
  if (h.size() < kSealedHeaderSize) {
    return absl::DataLossError(
        StrCat("truncated header: ", h.size(), " of ", kSealedHeaderSize, " bytes"));
  }
  ParsedHeader p;
  const auto* u = reinterpret_cast<const uint8_t*>(h.data());
  if (u[internal::kVersionOffset] != kSealedFormatVersion) {
    return absl::FailedPreconditionError(
        StrCat("sealed format version ", int{u[internal::kVersionOffset]},
               " is not supported (this chartcoder reads version ", kSealedFormatVersion,
               "): the file is newer than this chartcoder, or damaged"));
  }
  if (u[internal::kSuiteOffset] != internal::kSuiteAes256GcmHkdfSha256) {
    return absl::FailedPreconditionError(
        StrCat("algorithm suite ", int{u[internal::kSuiteOffset]},
               " is not supported (this chartcoder knows suite 1): the file is newer than this "
               "chartcoder, or damaged"));
  }
  for (auto [begin, end] : internal::kReservedRanges) {
    for (size_t i = begin; i < end; ++i) {
      if (u[i] != 0) return absl::DataLossError("damaged header: reserved bytes are not zero");
    }
  }
  p.info.format_version = kSealedFormatVersion;
  p.info.segment_size = LoadBigEndian32(h.data() + internal::kSegmentSizeOffset);
  if (!CheckSegmentSize(p.info.segment_size).ok()) {
    return absl::DataLossError(
        StrCat("damaged header: segment size ", p.info.segment_size, " is out of range"));
  }
  const size_t id_len = u[internal::kKeyIdLengthOffset];
  std::string_view id = h.substr(internal::kKeyIdOffset, std::min(id_len, kMaxKeyIdLength));
  bool padding_zero = true;
  for (size_t i = internal::kKeyIdOffset + id_len; i < internal::kKeyIdOffset + kMaxKeyIdLength;
       ++i) {
    padding_zero &= u[i] == 0;
  }
  // The id is not echoed unless valid: a damaged one is arbitrary bytes.
  if (id_len == 0 || id_len > kMaxKeyIdLength || !padding_zero || !IsValidKeyId(id)) {
    return absl::DataLossError("damaged header: the key id field is not valid");
  }
  p.info.key_id = std::string(id);
  std::memcpy(p.salt.data(), u + internal::kSaltOffset, p.salt.size());
  std::memcpy(p.nonce_prefix.data(), u + internal::kNoncePrefixOffset, p.nonce_prefix.size());
  p.digest = internal::Sha256(h.substr(0, internal::kStreamParamsSize));
  return p;
}

// Fills the key slot of `header` (bytes [64, 192)): the key id and the data
// key wrapped under `kek` with the header's first 132 bytes as associated data.
absl::Status WrapDataKey(std::string_view key_id, const SecretKey& kek,
                         absl::Span<const uint8_t> data_key,
                         const std::array<uint8_t, 12>& wrap_nonce, uint8_t* header) {
  std::memset(header + internal::kKeyIdLengthOffset, 0,
              kSealedHeaderSize - internal::kKeyIdLengthOffset);
  header[internal::kKeyIdLengthOffset] = static_cast<uint8_t>(key_id.size());
  std::memcpy(header + internal::kKeyIdOffset, key_id.data(), key_id.size());
  std::memcpy(header + internal::kWrapNonceOffset, wrap_nonce.data(), wrap_nonce.size());
  CC_ASSIGN_OR_RETURN(internal::AesGcm wrap,
                      internal::AesGcm::Create(absl::MakeConstSpan(kek.data(), kek.size())));
  return wrap.Seal(wrap_nonce, absl::MakeConstSpan(header, internal::kWrapAadSize), data_key,
                   header + internal::kWrappedKeyOffset);
}

// Unwraps the data key from a parsed header.
absl::Status UnwrapDataKey(std::string_view header, const ParsedHeader& parsed,
                           const KeyProvider& keys, std::array<uint8_t, 32>* data_key) {
  absl::StatusOr<SecretKey> kek = keys.GetKey(parsed.info.key_id);
  if (!kek.ok()) {
    if (absl::IsNotFound(kek.status())) {
      return absl::NotFoundError(
          StrCat("sealed with key ", parsed.info.key_id, ", which is not in ", keys.Describe()));
    }
    return kek.status();
  }
  CC_ASSIGN_OR_RETURN(internal::AesGcm wrap,
                      internal::AesGcm::Create(absl::MakeConstSpan(kek->data(), kek->size())));
  const auto bytes = internal::Bytes(header);
  CC_ASSIGN_OR_RETURN(
      bool ok, wrap.Open(bytes.subspan(internal::kWrapNonceOffset, internal::kGcmNonceSize),
                         bytes.subspan(0, internal::kWrapAadSize),
                         bytes.subspan(internal::kWrappedKeyOffset, 32 + internal::kGcmTagSize),
                         data_key->data()));
  if (!ok) {
    return absl::DataLossError(StrCat("the data key does not unwrap with key ", parsed.info.key_id,
                                      ": the key material is not the one the file was sealed "
                                      "with, or the header was changed"));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// Streams and format helpers

absl::StatusOr<std::string_view> StringSource::Read(size_t max_bytes) {
  std::string_view out = rest_.substr(0, max_bytes);
  rest_.remove_prefix(out.size());
  return out;
}

bool LooksSealed(std::string_view prefix) {
  const size_t n = std::min(prefix.size(), kSealedMagic.size());
  if (n == 0) return false;
  size_t flips = 0;
  for (size_t i = 0; i < n; ++i) {
    flips +=
        std::popcount(static_cast<unsigned>(static_cast<uint8_t>(prefix[i] ^ kSealedMagic[i])));
  }
  return n < 4 ? flips == 0 : flips <= kMaxMagicBitFlips;
}

absl::StatusOr<SealedHeaderInfo> InspectSealed(std::string_view header_bytes) {
  CC_ASSIGN_OR_RETURN(ParsedHeader p, ParseHeader(header_bytes));
  return p.info;
}

uint64_t SealedSize(uint64_t plaintext_size, uint32_t segment_size) {
  return kSealedHeaderSize + plaintext_size / segment_size * (segment_size + kSealedTagSize) +
         plaintext_size % segment_size + kSealedTagSize;
}

absl::StatusOr<SealedFileInfo> InspectSealedFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoStatus(errno, path, "cannot open");
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  struct stat st;
  if (::fstat(fd, &st) != 0) return internal::ErrnoStatus(errno, path, "cannot stat");
  std::string header(kSealedHeaderSize, '\0');
  CC_ASSIGN_OR_RETURN(size_t n, internal::ReadFull(fd, header.data(), header.size(), path));
  header.resize(n);
  absl::StatusOr<SealedHeaderInfo> h = InspectSealed(header);
  if (!h.ok()) {
    return absl::Status(h.status().code(),
                        StrCat(path, ": ", internal::FromAbsl(h.status().message())));
  }
  SealedFileInfo info;
  info.header = *std::move(h);
  info.file_size = static_cast<uint64_t>(st.st_size);
  const uint64_t full = uint64_t{info.header.segment_size} + kSealedTagSize;
  const uint64_t payload = info.file_size - kSealedHeaderSize;
  const uint64_t rest = payload % full;
  // The final segment is always shorter than a full one, never shorter than a tag.
  if (S_ISREG(st.st_mode) && rest >= kSealedTagSize && payload / full < UINT32_MAX) {
    info.size_consistent = true;
    info.segment_count = payload / full + 1;
    info.plaintext_size = payload / full * info.header.segment_size + rest - kSealedTagSize;
  }
  return info;
}

// ---------------------------------------------------------------------------
// SealedWriter

class SealedWriter::Impl {
 public:
  explicit Impl(SegmentCipher cipher) : cipher_(std::move(cipher)) {
    pending_.reserve(cipher_.segment_size());
    out_.resize(cipher_.segment_size() + kSealedTagSize);
  }
  ~Impl() { internal::CleanseString(&pending_); }

  SegmentCipher cipher_;
  uint32_t index_ = 0;
  std::string pending_;  // plaintext not yet sealed; always < one segment
  std::string out_;      // one sealed segment
};

internal::SealedFileSecrets::~SealedFileSecrets() {
  internal::Cleanse(data_key.data(), data_key.size());
}

absl::StatusOr<std::unique_ptr<SealedWriter>> internal::SealedWriterFactory::Create(
    ByteSink* sink, const KeyProvider& keys, const SealedWriterOptions& options,
    const SealedFileSecrets& secrets) {
  CC_RETURN_IF_ERROR(CheckSegmentSize(options.segment_size));
  std::string key_id = options.key_id;
  if (key_id.empty()) {
    CC_ASSIGN_OR_RETURN(key_id, keys.ActiveKeyId());
  }
  if (!IsValidKeyId(key_id)) {
    return absl::InvalidArgumentError(StrCat("key id '", key_id, "' is not valid"));
  }
  CC_ASSIGN_OR_RETURN(SecretKey kek, keys.GetKey(key_id));

  std::array<uint8_t, kSealedHeaderSize> header{};
  std::memcpy(header.data(), kSealedMagic.data(), kSealedMagic.size());
  header[kVersionOffset] = kSealedFormatVersion;
  header[kSuiteOffset] = kSuiteAes256GcmHkdfSha256;
  StoreBigEndian32(options.segment_size, header.data() + kSegmentSizeOffset);
  std::memcpy(header.data() + kSaltOffset, secrets.salt.data(), kSaltSize);
  std::memcpy(header.data() + kNoncePrefixOffset, secrets.nonce_prefix.data(), kNoncePrefixSize);
  CC_RETURN_IF_ERROR(WrapDataKey(key_id, kek, secrets.data_key, secrets.wrap_nonce, header.data()));

  const std::string_view header_view = Chars(header);
  CC_ASSIGN_OR_RETURN(ParsedHeader parsed, ParseHeader(header_view));
  CC_ASSIGN_OR_RETURN(SegmentCipher cipher, SegmentCipher::Create(secrets.data_key, parsed));
  CC_RETURN_IF_ERROR(sink->Append(header_view));
  auto impl = std::make_unique<SealedWriter::Impl>(std::move(cipher));
  std::unique_ptr<SealedWriter> writer(
      new SealedWriter(std::move(impl), sink, std::move(parsed.info)));
  writer->sealed_bytes_ = kSealedHeaderSize;
  return writer;
}

absl::StatusOr<std::unique_ptr<SealedWriter>> SealedWriter::Create(
    ByteSink* sink, const KeyProvider& keys, const SealedWriterOptions& options) {
  internal::SealedFileSecrets secrets;
  CC_RETURN_IF_ERROR(internal::RandomPrivateBytes(absl::MakeSpan(secrets.data_key)));
  CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(secrets.salt)));
  CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(secrets.nonce_prefix)));
  CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(secrets.wrap_nonce)));
  return internal::SealedWriterFactory::Create(sink, keys, options, secrets);
}

SealedWriter::SealedWriter(std::unique_ptr<Impl> impl, ByteSink* sink, SealedHeaderInfo header)
    : impl_(std::move(impl)), sink_(sink), header_(std::move(header)) {}

SealedWriter::~SealedWriter() = default;

absl::Status SealedWriter::SealSegment(const char* data, size_t n, bool last) {
  Impl& m = *impl_;
  // Index 2^32 - 1 is left for a final segment, so the count never wraps.
  if (!last && m.index_ == UINT32_MAX) {
    failed_ = true;
    return absl::ResourceExhaustedError("sealed stream is too long (2^32 segments)");
  }
  absl::Status s = m.cipher_.Seal(m.index_, last, std::string_view(data, n), m.out_.data());
  if (s.ok()) s = sink_->Append(std::string_view(m.out_.data(), n + kSealedTagSize));
  if (!s.ok()) {
    failed_ = true;
    return s;
  }
  ++m.index_;
  sealed_bytes_ += n + kSealedTagSize;
  return absl::OkStatus();
}

absl::Status SealedWriter::Append(std::string_view plaintext) {
  if (finished_ || failed_) {
    return absl::FailedPreconditionError(finished_ ? "sealed writer: Append after Finish"
                                                   : "sealed writer: Append after an error");
  }
  Impl& m = *impl_;
  const uint32_t segment_size = m.cipher_.segment_size();
  plaintext_bytes_ += plaintext.size();
  while (!plaintext.empty()) {
    // Whole segments straight from the caller's buffer: no copy.
    if (m.pending_.empty() && plaintext.size() >= segment_size) {
      CC_RETURN_IF_ERROR(SealSegment(plaintext.data(), segment_size, /*last=*/false));
      plaintext.remove_prefix(segment_size);
      continue;
    }
    size_t take = std::min(plaintext.size(), segment_size - m.pending_.size());
    m.pending_.append(plaintext.substr(0, take));
    plaintext.remove_prefix(take);
    // A full segment is never the final one: the final segment is always
    // shorter, so a full one can be sealed as soon as it is complete.
    if (m.pending_.size() == segment_size) {
      CC_RETURN_IF_ERROR(SealSegment(m.pending_.data(), m.pending_.size(), /*last=*/false));
      internal::Cleanse(m.pending_.data(), m.pending_.size());
      m.pending_.clear();
    }
  }
  return absl::OkStatus();
}

absl::Status SealedWriter::Finish() {
  if (finished_ || failed_) {
    return absl::FailedPreconditionError(finished_ ? "sealed writer: Finish called twice"
                                                   : "sealed writer: Finish after an error");
  }
  Impl& m = *impl_;
  CC_RETURN_IF_ERROR(SealSegment(m.pending_.data(), m.pending_.size(), /*last=*/true));
  internal::Cleanse(m.pending_.data(), m.pending_.size());
  m.pending_.clear();
  finished_ = true;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// SealedReader

class SealedReader::Impl {
 public:
  explicit Impl(SegmentCipher cipher) : cipher_(std::move(cipher)) {
    assembled_.reserve(cipher_.segment_size() + kSealedTagSize);
    plaintext_.resize(cipher_.segment_size());
  }
  ~Impl() { internal::CleanseString(&plaintext_); }

  SegmentCipher cipher_;
  std::string assembled_;  // a segment gathered from short reads
  std::string plaintext_;  // the last verified segment
};

absl::StatusOr<std::unique_ptr<SealedReader>> SealedReader::Open(ByteSource* source,
                                                                 const KeyProvider& keys) {
  std::string header;
  CC_RETURN_IF_ERROR(ReadUpTo(source, kSealedHeaderSize, &header));
  CC_ASSIGN_OR_RETURN(ParsedHeader parsed, ParseHeader(header));
  std::array<uint8_t, 32> data_key{};
  absl::Cleanup wipe = [&data_key] { internal::Cleanse(data_key.data(), data_key.size()); };
  CC_RETURN_IF_ERROR(UnwrapDataKey(header, parsed, keys, &data_key));
  CC_ASSIGN_OR_RETURN(SegmentCipher cipher, SegmentCipher::Create(data_key, parsed));
  auto impl = std::make_unique<Impl>(std::move(cipher));
  return std::unique_ptr<SealedReader>(
      new SealedReader(std::move(impl), source, std::move(parsed.info)));
}

SealedReader::SealedReader(std::unique_ptr<Impl> impl, ByteSource* source, SealedHeaderInfo header)
    : impl_(std::move(impl)), source_(source), header_(std::move(header)) {}

SealedReader::~SealedReader() = default;

absl::Status SealedReader::Fail(absl::Status status) {
  error_ = status;
  return status;
}

absl::StatusOr<bool> SealedReader::Next(std::string_view* plaintext) {
  *plaintext = {};
  if (!error_.ok()) return error_;
  if (done_) return false;
  Impl& m = *impl_;
  const size_t full = size_t{m.cipher_.segment_size()} + kSealedTagSize;
  // One segment: a full one (never the final one), or a shorter final one
  // that the end of the stream cut off.
  absl::StatusOr<std::string_view> first = source_->Read(full);
  if (!first.ok()) return Fail(first.status());
  std::string_view sealed = *first;
  if (sealed.size() < full && !sealed.empty()) {
    m.assembled_.assign(sealed);
    while (m.assembled_.size() < full) {
      absl::StatusOr<std::string_view> more = source_->Read(full - m.assembled_.size());
      if (!more.ok()) return Fail(more.status());
      if (more->empty()) break;
      m.assembled_.append(more->substr(0, full - m.assembled_.size()));
    }
    sealed = m.assembled_;
  }
  const uint32_t index = next_index_;
  if (sealed.empty()) {
    return Fail(
        absl::DataLossError(StrCat("truncated: the data ends after segment ", index,
                                   " without a final segment (a full segment is never the last)")));
  }
  const bool last = sealed.size() < full;
  if (last && sealed.size() < kSealedTagSize) {
    return Fail(absl::DataLossError(StrCat("truncated: segment ", index, " is only ", sealed.size(),
                                           " bytes, shorter than its tag")));
  }
  if (!last && index == UINT32_MAX) {
    return Fail(absl::DataLossError("more than 2^32 segments: not a valid sealed file"));
  }
  absl::StatusOr<bool> ok = m.cipher_.Open(index, last, sealed, m.plaintext_.data());
  if (!ok.ok()) return Fail(ok.status());
  if (!*ok) {
    return Fail(
        absl::DataLossError(StrCat("segment ", index,
                                   " does not authenticate: the data was changed, reordered, "
                                   "truncated, extended or damaged, or comes from another file")));
  }
  ++next_index_;
  const size_t n = sealed.size() - kSealedTagSize;
  plaintext_bytes_ += n;
  if (last) {
    done_ = true;
    if (n == 0) return false;
  }
  *plaintext = std::string_view(m.plaintext_.data(), n);
  return true;
}

// ---------------------------------------------------------------------------
// One-shot helpers

absl::StatusOr<std::string> SealBytes(std::string_view plaintext, const KeyProvider& keys,
                                      const SealedWriterOptions& options) {
  std::string out;
  out.reserve(SealedSize(plaintext.size(), std::max(options.segment_size, kMinSegmentSize)));
  StringSink sink(&out);
  CC_ASSIGN_OR_RETURN(std::unique_ptr<SealedWriter> w, SealedWriter::Create(&sink, keys, options));
  CC_RETURN_IF_ERROR(w->Append(plaintext));
  CC_RETURN_IF_ERROR(w->Finish());
  return out;
}

absl::StatusOr<std::string> UnsealBytes(std::string_view sealed, const KeyProvider& keys,
                                        size_t max_bytes) {
  StringSource source(sealed);
  CC_ASSIGN_OR_RETURN(std::unique_ptr<SealedReader> r, SealedReader::Open(&source, keys));
  std::string out;
  std::string_view chunk;
  while (true) {
    CC_ASSIGN_OR_RETURN(bool more, r->Next(&chunk));
    if (!more) break;
    if (chunk.size() > max_bytes - out.size()) {
      internal::CleanseString(&out);
      return absl::ResourceExhaustedError(
          StrCat("sealed data holds more than the limit of ", max_bytes, " bytes"));
    }
    out.append(chunk);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Rewrap

absl::StatusOr<RewrapResult> RewrapSealedFile(const std::string& path, const KeyProvider& keys,
                                              std::string_view new_key_id) {
  auto in_path = [&path](const absl::Status& s) {
    return absl::Status(s.code(), StrCat(path, ": ", internal::FromAbsl(s.message())));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoStatus(errno, path, "cannot open");
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  struct stat st;
  if (::fstat(fd, &st) != 0) return internal::ErrnoStatus(errno, path, "cannot stat");
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat(path, ": not a regular file"));
  }
  std::string header(kSealedHeaderSize, '\0');
  CC_ASSIGN_OR_RETURN(size_t got, internal::ReadFull(fd, header.data(), header.size(), path));
  header.resize(got);
  absl::StatusOr<ParsedHeader> parsed = ParseHeader(header);
  if (!parsed.ok()) return in_path(parsed.status());

  RewrapResult result;
  result.old_key_id = parsed->info.key_id;
  if (new_key_id.empty()) {
    absl::StatusOr<std::string> active = keys.ActiveKeyId();
    if (!active.ok()) return active.status();
    result.new_key_id = *std::move(active);
  } else {
    result.new_key_id = std::string(new_key_id);
  }
  if (!IsValidKeyId(result.new_key_id)) {
    return absl::InvalidArgumentError(StrCat("key id '", result.new_key_id, "' is not valid"));
  }
  std::array<uint8_t, 32> data_key{};
  absl::Cleanup wipe = [&data_key] { internal::Cleanse(data_key.data(), data_key.size()); };
  // Unwrapping proves the old key and the header are right before anything is written.
  if (absl::Status s = UnwrapDataKey(header, *parsed, keys, &data_key); !s.ok()) {
    return in_path(s);
  }
  if (result.new_key_id == result.old_key_id) return result;
  absl::StatusOr<SecretKey> new_kek = keys.GetKey(result.new_key_id);
  if (!new_kek.ok()) return new_kek.status();
  std::array<uint8_t, 12> wrap_nonce{};
  CC_RETURN_IF_ERROR(internal::RandomBytes(absl::MakeSpan(wrap_nonce)));
  uint8_t* h = reinterpret_cast<uint8_t*>(header.data());
  CC_RETURN_IF_ERROR(WrapDataKey(result.new_key_id, *new_kek, data_key, wrap_nonce, h));

  CC_ASSIGN_OR_RETURN(internal::AtomicFile out,
                      internal::AtomicFile::Create(path, st.st_mode & 07777));
  CC_RETURN_IF_ERROR(out.Write(header));
  // The payload is copied as it is: in the kernel where it can, else through
  // a buffer. Nothing is decrypted.
  uint64_t left = static_cast<uint64_t>(st.st_size) - kSealedHeaderSize;
  bool kernel_copy = true;
  std::string buffer;
  while (left > 0) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(fd, nullptr, out.fd(), nullptr, left, 0);
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) break;
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
        return internal::ErrnoStatus(errno, path, "cannot copy payload");
      }
      kernel_copy = false;
      buffer.resize(1 << 20);
    }
    CC_ASSIGN_OR_RETURN(
        size_t n,
        internal::ReadFull(fd, buffer.data(), std::min<uint64_t>(left, buffer.size()), path));
    if (n == 0) break;
    CC_RETURN_IF_ERROR(out.Write(std::string_view(buffer.data(), n)));
    left -= n;
  }
  if (left != 0) {
    return absl::DataLossError(StrCat(path, ": the file shrank while being re-wrapped"));
  }
  CC_RETURN_IF_ERROR(out.Commit());
  result.changed = true;
  return result;
}

}  // namespace chartcoder
