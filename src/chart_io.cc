#include "chartcoder/chart_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "src/internal/crypto.h"
#include "src/internal/file_io.h"
#include "src/internal/status_macros.h"
#include "src/internal/strings.h"

namespace chartcoder {
namespace {

using internal::StrCat;

constexpr size_t kReadChunk = 1 << 20;
// The most one FileSource::Read returns (the buffer it keeps).
constexpr size_t kMaxFileRead = 16 << 20;
constexpr size_t kWriteBuffer = 64 << 10;
// Appends this large (a sealed segment) skip the buffer.
constexpr size_t kDirectWrite = 32 << 10;

// `status` with "<name>: " in front of its message.
absl::Status Named(std::string_view name, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), StrCat(name, ": ", internal::FromAbsl(status.message())));
}

// A source that returns `prefix` first, then the rest of `inner`: lets the
// magic be sniffed without seeking.
class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(std::string_view prefix, ByteSource* inner) : prefix_(prefix), inner_(inner) {}
  absl::StatusOr<std::string_view> Read(size_t max_bytes) override {
    if (!prefix_.empty()) {
      std::string_view out = prefix_.substr(0, max_bytes);
      prefix_.remove_prefix(out.size());
      return out;
    }
    return inner_->Read(max_bytes);
  }

 private:
  std::string_view prefix_;
  ByteSource* inner_;
};

// Reads up to the magic's length from `source`.
absl::StatusOr<std::string> Sniff(ByteSource* source) {
  std::string prefix;
  while (prefix.size() < kSealedMagic.size()) {
    CC_ASSIGN_OR_RETURN(std::string_view got, source->Read(kSealedMagic.size() - prefix.size()));
    if (got.empty()) break;
    prefix.append(got);
  }
  return prefix;
}

// Writes to a file descriptor through a buffer; large appends go straight
// through.
class FdSink final : public ByteSink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
    buffer_.reserve(kWriteBuffer);
  }
  ~FdSink() override { internal::CleanseString(&buffer_); }

  absl::Status Append(std::string_view bytes) override {
    written_ += bytes.size();
    if (bytes.size() < kDirectWrite && buffer_.size() + bytes.size() <= kWriteBuffer) {
      buffer_.append(bytes);
      return absl::OkStatus();
    }
    CC_RETURN_IF_ERROR(Flush());
    if (bytes.size() >= kDirectWrite) return internal::WriteFull(fd_, bytes, name_);
    buffer_.append(bytes);
    return absl::OkStatus();
  }
  absl::Status Flush() {
    absl::Status s = internal::WriteFull(fd_, buffer_, name_);
    internal::Cleanse(buffer_.data(), buffer_.size());
    buffer_.clear();
    return s;
  }
  uint64_t written() const { return written_; }

 private:
  int fd_;
  std::string name_;
  std::string buffer_;
  uint64_t written_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------
// FileSource

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  if (path == "-") return std::make_unique<FileSource>(STDIN_FILENO, "standard input");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoStatus(errno, path, "cannot open");
  auto source = std::make_unique<FileSource>(fd, path);
  source->owned_ = true;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat(path, ": is a directory"));
  }
  return source;
}

FileSource::FileSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<uint64_t>(st.st_size);
}

FileSource::~FileSource() {
  if (owned_) ::close(fd_);
  internal::CleanseString(&buffer_);
}

absl::StatusOr<std::string_view> FileSource::Read(size_t max_bytes) {
  max_bytes = std::min(max_bytes, kMaxFileRead);
  if (buffer_.size() < max_bytes) {
    internal::CleanseString(&buffer_);
    buffer_.resize(max_bytes);
  }
  // A regular file returns what was asked for except at its end; keep
  // reading after a short read so callers get whole segments without copying.
  CC_ASSIGN_OR_RETURN(size_t n, internal::ReadFull(fd_, buffer_.data(), max_bytes, name_));
  return std::string_view(buffer_.data(), n);
}

// ---------------------------------------------------------------------------
// Reading charts

namespace {

// ReadChart, with the input's size when it is known (a regular file), so that
// the result is allocated once: growing it would leave copies of the chart in
// freed memory.
absl::StatusOr<std::string> ReadChartSized(ByteSource* source, std::string_view name,
                                           const ChartReadOptions& options, ChartSourceInfo* info,
                                           std::optional<uint64_t> size) {
  absl::StatusOr<std::string> prefix = Sniff(source);
  if (!prefix.ok()) return Named(name, prefix.status());
  if (prefix->empty()) {
    if (options.allow_empty) return std::string();
    return absl::DataLossError(StrCat(name, ": empty input, neither a chart nor a sealed file"));
  }
  PrefixedSource whole(*prefix, source);
  std::string out;
  // A sealed file's plaintext is shorter than the file.
  if (size.has_value()) out.reserve(std::min<uint64_t>(*size, options.max_bytes));
  auto too_big = [&] {
    internal::CleanseString(&out);
    return absl::ResourceExhaustedError(
        StrCat(name, ": larger than the limit of ", options.max_bytes, " bytes"));
  };
  if (!LooksSealed(*prefix)) {
    if (size.has_value() && *size > options.max_bytes) return too_big();  // before reading it
    while (true) {
      absl::StatusOr<std::string_view> got = whole.Read(kReadChunk);
      if (!got.ok()) return Named(name, got.status());
      if (got->empty()) break;
      if (got->size() > options.max_bytes - out.size()) return too_big();
      out.append(*got);
    }
    if (info != nullptr) *info = ChartSourceInfo{};
    return out;
  }
  if (options.keys == nullptr) {
    return absl::FailedPreconditionError(
        StrCat(name, " is a sealed file: give --keyring FILE (or set $", kKeyEnvVar, ", $",
               kKeyFdEnvVar, " or $", kKeyringEnvVar, ") to read it"));
  }
  absl::StatusOr<std::unique_ptr<SealedReader>> reader = SealedReader::Open(&whole, *options.keys);
  if (!reader.ok()) return Named(name, reader.status());
  std::string_view chunk;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&chunk);
    if (!more.ok()) {
      // Verified segments before the failure are PHI that nobody may use now.
      internal::CleanseString(&out);
      return Named(name, more.status());
    }
    if (!*more) break;
    if (chunk.size() > options.max_bytes - out.size()) return too_big();
    out.append(chunk);
  }
  if (out.empty() && !options.allow_empty) {
    return absl::DataLossError(StrCat(name, ": the sealed file holds an empty chart"));
  }
  if (info != nullptr) *info = ChartSourceInfo{true, (*reader)->header().key_id};
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadChart(ByteSource* source, std::string_view name,
                                      const ChartReadOptions& options, ChartSourceInfo* info) {
  return ReadChartSized(source, name, options, info, std::nullopt);
}

absl::StatusOr<std::string> ReadChartFile(const std::string& path, const ChartReadOptions& options,
                                          ChartSourceInfo* info) {
  CC_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> source, FileSource::Open(path));
  return ReadChartSized(source.get(), source->name(), options, info, source->size());
}

absl::StatusOr<std::string> ReadChartBytes(std::string_view bytes, const ChartReadOptions& options,
                                           ChartSourceInfo* info) {
  StringSource source(bytes);
  return ReadChartSized(&source, "input", options, info, bytes.size());
}

// ---------------------------------------------------------------------------
// OutputFile

class OutputFile::Impl {
 public:
  std::string path;
  std::optional<internal::AtomicFile> file;  // absent for standard output
  std::unique_ptr<FdSink> sink;
  std::unique_ptr<SealedWriter> writer;
  uint64_t appended = 0;
  bool committed = false;
  bool failed = false;
};

absl::StatusOr<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path,
                                                               const OutputOptions& options) {
  if (options.seal && options.keys == nullptr) {
    return absl::InvalidArgumentError(StrCat(
        path, ": sealed output needs a key: give --keyring FILE (or set $", kKeyEnvVar, ")"));
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  int fd = STDOUT_FILENO;
  std::string name = "standard output";
  if (path != "-") {
    absl::StatusOr<internal::AtomicFile> file =
        internal::AtomicFile::Create(path, options.mode & 07777);
    if (!file.ok()) return file.status();
    impl->file.emplace(*std::move(file));
    fd = impl->file->fd();
    name = path;
  }
  impl->sink = std::make_unique<FdSink>(fd, name);
  if (options.seal) {
    SealedWriterOptions w;
    w.key_id = options.key_id;
    w.segment_size = options.segment_size;
    absl::StatusOr<std::unique_ptr<SealedWriter>> writer =
        SealedWriter::Create(impl->sink.get(), *options.keys, w);
    if (!writer.ok()) return Named(path, writer.status());
    impl->writer = *std::move(writer);
  }
  return std::unique_ptr<OutputFile>(new OutputFile(std::move(impl)));
}

OutputFile::OutputFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OutputFile::~OutputFile() {
  // Uncommitted: the sealed writer and the buffer are wiped, and the hidden
  // file is discarded by AtomicFile.
  impl_->writer.reset();
  impl_->sink.reset();
}

absl::Status OutputFile::Append(std::string_view bytes) {
  Impl& m = *impl_;
  if (m.committed || m.failed) {
    return absl::FailedPreconditionError(
        StrCat(m.path, m.committed ? ": Append after Commit" : ": Append after an error"));
  }
  absl::Status s = m.writer != nullptr ? m.writer->Append(bytes) : m.sink->Append(bytes);
  if (!s.ok()) {
    m.failed = true;
    return s;
  }
  m.appended += bytes.size();
  return absl::OkStatus();
}

absl::Status OutputFile::Commit() {
  Impl& m = *impl_;
  if (m.committed || m.failed) {
    return absl::FailedPreconditionError(
        StrCat(m.path, m.committed ? ": Commit called twice" : ": Commit after an error"));
  }
  absl::Status s = m.writer != nullptr ? m.writer->Finish() : absl::OkStatus();
  if (s.ok()) s = m.sink->Flush();
  if (s.ok() && m.file.has_value()) s = m.file->Commit();
  if (!s.ok()) {
    m.failed = true;
    if (m.file.has_value()) m.file->Discard();
    return s;
  }
  m.committed = true;
  return absl::OkStatus();
}

const std::string& OutputFile::path() const { return impl_->path; }
bool OutputFile::sealed() const { return impl_->writer != nullptr; }
std::string OutputFile::key_id() const {
  return impl_->writer != nullptr ? impl_->writer->header().key_id : std::string();
}
uint64_t OutputFile::bytes_appended() const { return impl_->appended; }
uint64_t OutputFile::bytes_written() const { return impl_->sink->written(); }

// ---------------------------------------------------------------------------
// Whole-file conversions

absl::StatusOr<FileConversion> SealFile(const std::string& in, const std::string& out,
                                        const OutputOptions& options) {
  CC_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> source, FileSource::Open(in));
  absl::StatusOr<std::string> prefix = Sniff(source.get());
  if (!prefix.ok()) return Named(source->name(), prefix.status());
  if (LooksSealed(*prefix)) {
    return absl::FailedPreconditionError(StrCat(source->name(), " is already sealed"));
  }
  OutputOptions sealed = options;
  sealed.seal = true;
  CC_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> output, OutputFile::Create(out, sealed));
  CC_RETURN_IF_ERROR(output->Append(*prefix));
  while (true) {
    absl::StatusOr<std::string_view> got = source->Read(kReadChunk);
    if (!got.ok()) return Named(source->name(), got.status());
    if (got->empty()) break;
    CC_RETURN_IF_ERROR(output->Append(*got));
  }
  CC_RETURN_IF_ERROR(output->Commit());
  FileConversion result;
  result.plaintext_bytes = output->bytes_appended();
  result.output_bytes = output->bytes_written();
  result.key_id = output->key_id();
  return result;
}

absl::StatusOr<FileConversion> UnsealFile(const std::string& in, const std::string& out,
                                          const KeyProvider& keys) {
  if (out == "-") {
    return absl::InvalidArgumentError(
        "decrypted output must go to a file, never standard output: the file appears only "
        "after the last segment has been verified");
  }
  CC_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> source, FileSource::Open(in));
  absl::StatusOr<std::unique_ptr<SealedReader>> reader = SealedReader::Open(source.get(), keys);
  if (!reader.ok()) return Named(source->name(), reader.status());
  OutputOptions plain;
  CC_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> output, OutputFile::Create(out, plain));
  std::string_view chunk;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&chunk);
    // On error `output` dies uncommitted: the verified part is discarded too.
    if (!more.ok()) return Named(source->name(), more.status());
    if (!*more) break;
    CC_RETURN_IF_ERROR(output->Append(chunk));
  }
  CC_RETURN_IF_ERROR(output->Commit());
  FileConversion result;
  result.plaintext_bytes = output->bytes_written();
  result.output_bytes = output->bytes_written();
  result.key_id = (*reader)->header().key_id;
  return result;
}

}  // namespace chartcoder
