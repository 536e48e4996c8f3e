#include "chartcoder/sealed.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "chartcoder/chart_io.h"
#include "chartcoder/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/crypto.h"
#include "src/internal/sealed_format.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::chartcoder::testing::FileMode;
using ::chartcoder::testing::ListDir;
using ::chartcoder::testing::ReadFileOrDie;
using ::chartcoder::testing::TempDir;
using ::chartcoder::testing::WriteFileOrDie;
using ::testing::HasSubstr;

constexpr uint32_t kSmallSegment = 64;
constexpr size_t kFull = kSmallSegment + kSealedTagSize;  // one full sealed segment

std::string Key(char fill) { return std::string(32, fill); }

std::unique_ptr<InMemoryKeyProvider> Provider(std::vector<std::pair<std::string, std::string>> keys,
                                              std::string description = "test keys") {
  std::vector<InMemoryKeyProvider::Entry> entries;
  std::string active = keys.empty() ? "" : keys.front().first;
  for (auto& [id, material] : keys) entries.push_back({id, *SecretKey::FromBytes(material)});
  return std::make_unique<InMemoryKeyProvider>(std::move(entries), active, description);
}

std::string Text(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// The result of reading a sealed stream segment by segment: every plaintext
// chunk handed out, and how it ended.
struct Streamed {
  std::string plaintext;
  absl::Status status;
  bool complete = false;
};

Streamed Stream(std::string_view sealed, const KeyProvider& keys) {
  Streamed out;
  StringSource source(sealed);
  absl::StatusOr<std::unique_ptr<SealedReader>> r = SealedReader::Open(&source, keys);
  if (!r.ok()) {
    out.status = r.status();
    return out;
  }
  std::string_view chunk;
  while (true) {
    absl::StatusOr<bool> more = (*r)->Next(&chunk);
    if (!more.ok()) {
      out.status = more.status();
      // The error is sticky.
      EXPECT_EQ((*r)->Next(&chunk).status(), more.status());
      EXPECT_TRUE(chunk.empty());
      return out;
    }
    if (!*more) break;
    out.plaintext.append(chunk);
  }
  out.complete = true;
  return out;
}

class SealedTest : public ::testing::Test {
 protected:
  SealedTest() : keys_(Provider({{"k1", Key('A')}})) {}

  std::string Seal(std::string_view plaintext, uint32_t segment_size = kSmallSegment,
                   const KeyProvider* keys = nullptr) {
    SealedWriterOptions o;
    o.segment_size = segment_size;
    absl::StatusOr<std::string> s = SealBytes(plaintext, keys ? *keys : *keys_, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : "";
  }

  // Checks that `sealed` is rejected with `code`: by the streaming reader,
  // which must hand out only a verified prefix of `plaintext`, by
  // UnsealBytes, and by UnsealFile, which must leave no output file.
  void ExpectRejected(const std::string& sealed, absl::StatusCode code, std::string_view plaintext,
                      const KeyProvider* keys = nullptr, std::string_view message = "") {
    const KeyProvider& k = keys ? *keys : *keys_;
    Streamed s = Stream(sealed, k);
    EXPECT_FALSE(s.complete);
    EXPECT_EQ(s.status.code(), code) << s.status;
    if (!message.empty()) {
      EXPECT_THAT(Message(s.status), HasSubstr(message));
    }
    // Whatever was handed out is a whole number of verified segments of the
    // original: never bytes from the damaged segment.
    EXPECT_EQ(s.plaintext.size() % kSmallSegment, 0u);
    EXPECT_EQ(s.plaintext, plaintext.substr(0, s.plaintext.size()));
    EXPECT_EQ(UnsealBytes(sealed, k).status().code(), code);

    TempDir dir;
    const std::string in = dir.File("in.sealed");
    const std::string out = dir.File("out.txt");
    WriteFileOrDie(in, sealed);
    absl::StatusOr<FileConversion> file = UnsealFile(in, out, k);
    EXPECT_EQ(file.status().code(), code) << file.status();
    EXPECT_NE(::access(out.c_str(), F_OK), 0) << "output written for a rejected file";
    // No hidden temporary file left behind either.
    EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"in.sealed"});
  }

  std::unique_ptr<InMemoryKeyProvider> keys_;
};

// ---------------------------------------------------------------------------
// Round trips

TEST_F(SealedTest, RoundTripsEverySizeAroundSegmentBoundaries) {
  for (uint32_t seg : {16u, 64u, 65536u}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{seg - 1}, size_t{seg},
                     size_t{seg + 1}, size_t{2 * seg}, size_t{3 * seg + 5}, size_t{200000}}) {
      std::string plain = Text(n, static_cast<uint32_t>(n));
      std::string sealed = Seal(plain, seg);
      EXPECT_EQ(sealed.size(), SealedSize(n, seg)) << seg << "/" << n;
      absl::StatusOr<std::string> back = UnsealBytes(sealed, *keys_);
      ASSERT_TRUE(back.ok()) << seg << "/" << n << ": " << back.status();
      EXPECT_EQ(*back, plain);
      Streamed s = Stream(sealed, *keys_);
      EXPECT_TRUE(s.complete);
      EXPECT_EQ(s.plaintext, plain);
    }
  }
}

TEST_F(SealedTest, SealingTheSameTextTwiceGivesUnrelatedFiles) {
  std::string a = Seal("same text");
  std::string b = Seal("same text");
  EXPECT_EQ(a.size(), b.size());
  EXPECT_NE(a.substr(16), b.substr(16));  // fresh salt, nonce prefix and data key
}

TEST_F(SealedTest, AppendsOfAnySizeGiveTheSameStream) {
  const std::string plain = Text(1000);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::string sealed;
    StringSink sink(&sealed);
    SealedWriterOptions o;
    o.segment_size = kSmallSegment;
    auto w = SealedWriter::Create(&sink, *keys_, o);
    ASSERT_TRUE(w.ok());
    for (size_t at = 0; at < plain.size();) {
      size_t n = std::min<size_t>(plain.size() - at, rng() % 150);
      ASSERT_TRUE((*w)->Append(std::string_view(plain).substr(at, n)).ok());
      at += n;
    }
    ASSERT_TRUE((*w)->Finish().ok());
    EXPECT_EQ((*w)->plaintext_bytes(), plain.size());
    EXPECT_EQ((*w)->sealed_bytes(), sealed.size());
    EXPECT_EQ(sealed.size(), SealedSize(plain.size(), kSmallSegment));
    EXPECT_EQ(*UnsealBytes(sealed, *keys_), plain);
  }
}

// A source that hands out one byte at a time, like a slow pipe.
class TrickleSource final : public ByteSource {
 public:
  explicit TrickleSource(std::string_view bytes) : rest_(bytes) {}
  absl::StatusOr<std::string_view> Read(size_t) override {
    std::string_view out = rest_.substr(0, 1);
    rest_.remove_prefix(out.size());
    return out;
  }

 private:
  std::string_view rest_;
};

TEST_F(SealedTest, ReaderAssemblesSegmentsFromShortReads) {
  const std::string plain = Text(500);
  const std::string sealed = Seal(plain);
  TrickleSource source(sealed);
  auto r = SealedReader::Open(&source, *keys_);
  ASSERT_TRUE(r.ok()) << r.status();
  std::string out;
  std::string_view chunk;
  while (*(*r)->Next(&chunk)) out.append(chunk);
  EXPECT_EQ(out, plain);
  EXPECT_EQ((*r)->plaintext_bytes(), plain.size());
  EXPECT_EQ((*r)->header().key_id, "k1");
}

TEST_F(SealedTest, WriterMisuseIsFailedPrecondition) {
  std::string sealed;
  StringSink sink(&sealed);
  auto w = SealedWriter::Create(&sink, *keys_, {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ((*w)->Append("x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*w)->Finish().code(), absl::StatusCode::kFailedPrecondition);
}

class FailingSink final : public ByteSink {
 public:
  absl::Status Append(std::string_view) override {
    return ++calls_ > 2 ? absl::ResourceExhaustedError("disk full") : absl::OkStatus();
  }

 private:
  int calls_ = 0;
};

TEST_F(SealedTest, SinkErrorsStopTheWriter) {
  FailingSink sink;
  SealedWriterOptions o;
  o.segment_size = kSmallSegment;
  auto w = SealedWriter::Create(&sink, *keys_, o);
  ASSERT_TRUE(w.ok());
  absl::Status s = (*w)->Append(Text(1000));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*w)->Append("more").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*w)->Finish().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SealedTest, WriterOptionErrors) {
  std::string out;
  StringSink sink(&out);
  SealedWriterOptions o;
  o.segment_size = 8;
  EXPECT_EQ(SealedWriter::Create(&sink, *keys_, o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.segment_size = kMaxSegmentSize + 1;
  EXPECT_EQ(SealedWriter::Create(&sink, *keys_, o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = {};
  o.key_id = "absent";
  EXPECT_EQ(SealedWriter::Create(&sink, *keys_, o).status().code(), absl::StatusCode::kNotFound);
  InMemoryKeyProvider read_only({}, "", "read-only keys");
  EXPECT_EQ(SealedWriter::Create(&sink, read_only, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(out.empty());
}

// ---------------------------------------------------------------------------
// The byte layout, checked against an independent implementation of
// docs/sealed-format.md written with OpenSSL directly.

std::string EvpGcmSeal(std::string_view key, std::string_view nonce, std::string_view aad,
                       std::string_view plaintext) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(plaintext.size() + 16, '\0');
  int len = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr), 1);
  EXPECT_EQ(
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())),
      1);
  EXPECT_EQ(
      EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())),
      1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())),
            1);
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plaintext.size()), 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

std::string EvpHkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  std::string out(32, '\0');
  size_t len = out.size();
  EXPECT_EQ(EVP_PKEY_derive_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set1_hkdf_salt(ctx, reinterpret_cast<const unsigned char*>(salt.data()),
                                        static_cast<int>(salt.size())),
            1);
  EXPECT_EQ(EVP_PKEY_CTX_set1_hkdf_key(ctx, reinterpret_cast<const unsigned char*>(ikm.data()),
                                       static_cast<int>(ikm.size())),
            1);
  EXPECT_EQ(EVP_PKEY_CTX_add1_hkdf_info(ctx, reinterpret_cast<const unsigned char*>(info.data()),
                                        static_cast<int>(info.size())),
            1);
  EXPECT_EQ(EVP_PKEY_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), &len), 1);
  EVP_PKEY_CTX_free(ctx);
  return out;
}

std::string BigEndian32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

TEST_F(SealedTest, ByteLayoutMatchesTheSpecification) {
  internal::SealedFileSecrets secrets;
  for (size_t i = 0; i < 32; ++i) secrets.data_key[i] = static_cast<uint8_t>(0x10 + i);
  for (size_t i = 0; i < 32; ++i) secrets.salt[i] = static_cast<uint8_t>(0x80 + i);
  for (size_t i = 0; i < 7; ++i) secrets.nonce_prefix[i] = static_cast<uint8_t>(0xA0 + i);
  for (size_t i = 0; i < 12; ++i) secrets.wrap_nonce[i] = static_cast<uint8_t>(0xC0 + i);
  const std::string kek = Key('K');
  auto keys = Provider({{"kat-key", kek}});
  const std::string plain = "The quick brown fox jumps over the lazy dog. " + Text(100, 3);
  const uint32_t seg = 64;

  std::string actual;
  StringSink sink(&actual);
  SealedWriterOptions o;
  o.segment_size = seg;
  auto w = internal::SealedWriterFactory::Create(&sink, *keys, o, secrets);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->Append(plain).ok());
  ASSERT_TRUE((*w)->Finish().ok());

  // The header.
  std::string h;
  h += std::string(
      "\x89"
      "CCSEAL\n",
      8);
  h += '\x01';                // format version
  h += '\x01';                // suite
  h += std::string(2, '\0');  // reserved
  h += BigEndian32(seg);      // segment size
  h += internal::Chars(secrets.salt);
  h += internal::Chars(secrets.nonce_prefix);
  h += std::string(9, '\0');  // reserved
  ASSERT_EQ(h.size(), 64u);
  h += static_cast<char>(7);  // key id length
  h += "kat-key" + std::string(63 - 7, '\0');
  h += std::string(4, '\0');  // reserved
  ASSERT_EQ(h.size(), 132u);
  const std::string wrap_nonce(internal::Chars(secrets.wrap_nonce));
  const std::string data_key(internal::Chars(secrets.data_key));
  h += wrap_nonce + EvpGcmSeal(kek, wrap_nonce, h.substr(0, 132), data_key);
  ASSERT_EQ(h.size(), 192u);

  // The segments.
  const std::string payload_key =
      EvpHkdfSha256(data_key, internal::Chars(secrets.salt), "chartcoder/sealed/v1/payload");
  std::array<uint8_t, 32> digest = internal::Sha256(h.substr(0, 64));
  std::string expected = h;
  const size_t count = plain.size() / seg + 1;  // the final segment is always short
  for (uint32_t i = 0; i < count; ++i) {
    const bool last = i + 1 == count;
    std::string nonce = std::string(internal::Chars(secrets.nonce_prefix)) + BigEndian32(i) +
                        static_cast<char>(last ? 1 : 0);
    std::string aad =
        std::string(internal::Chars(digest)) + BigEndian32(i) + static_cast<char>(last ? 1 : 0);
    expected += EvpGcmSeal(payload_key, nonce, aad, plain.substr(size_t{i} * seg, seg));
  }
  EXPECT_EQ(Hex(actual), Hex(expected));
  // Pinned, so a change to the format cannot go unnoticed even if the code
  // above were changed with it.
  EXPECT_EQ(Hex(internal::Chars(internal::Sha256(actual))),
            "0a368671f608d4ae58ec7a0590f02dfba569d8524eb208bd8cf5159a1a7d11b9");
  EXPECT_EQ(*UnsealBytes(actual, *keys), plain);
}

// ---------------------------------------------------------------------------
// Detection

TEST(LooksSealedTest, MagicAndNearMisses) {
  const std::string magic(kSealedMagic);
  EXPECT_TRUE(LooksSealed(magic));
  EXPECT_TRUE(LooksSealed(magic + "anything"));
  EXPECT_TRUE(LooksSealed(magic.substr(0, 1)));  // a sealed file cut after one byte
  EXPECT_TRUE(LooksSealed(magic.substr(0, 5)));
  for (size_t byte = 0; byte < 8; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string m = magic;
      m[byte] ^= static_cast<char>(1 << bit);
      EXPECT_TRUE(LooksSealed(m)) << byte << "/" << bit;
    }
  }
  std::string three = magic;
  three[1] ^= 1;
  three[3] ^= 2;
  three[7] ^= 4;
  EXPECT_TRUE(LooksSealed(three));
  three[5] ^= 8;
  EXPECT_FALSE(LooksSealed(three));
  EXPECT_FALSE(LooksSealed(""));
  EXPECT_FALSE(LooksSealed("\x89PNG\r\n\x1a\n"));
  EXPECT_FALSE(LooksSealed("CHIEF COMPLAINT: chest pain\n"));
  EXPECT_FALSE(LooksSealed("\t"));
  EXPECT_FALSE(LooksSealed("{\"chart\":"));
}

TEST_F(SealedTest, InspectReadsTheHeaderOnly) {
  const std::string sealed = Seal(Text(300));
  absl::StatusOr<SealedHeaderInfo> info = InspectSealed(sealed.substr(0, kSealedHeaderSize));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format_version, 1);
  EXPECT_EQ(info->key_id, "k1");
  EXPECT_EQ(info->segment_size, kSmallSegment);

  TempDir dir;
  WriteFileOrDie(dir.File("f"), sealed);
  absl::StatusOr<SealedFileInfo> file = InspectSealedFile(dir.File("f"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->size_consistent);
  EXPECT_EQ(file->file_size, sealed.size());
  EXPECT_EQ(file->segment_count, 300u / kSmallSegment + 1);
  EXPECT_EQ(file->plaintext_size, 300u);

  // Cut at a segment boundary: the final segment is missing.
  WriteFileOrDie(dir.File("g"), sealed.substr(0, kSealedHeaderSize + 2 * kFull));
  file = InspectSealedFile(dir.File("g"));
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(file->size_consistent);
  EXPECT_EQ(InspectSealedFile(dir.File("missing")).status().code(), absl::StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------
// Every way a sealed file can be wrong: a status code, and no plaintext from
// a segment that did not verify.

TEST_F(SealedTest, WrongKeyIsDataLoss) {
  const std::string plain = Text(300);
  const std::string sealed = Seal(plain);
  auto other = Provider({{"k1", Key('B')}});  // same id, other material
  ExpectRejected(sealed, absl::StatusCode::kDataLoss, plain, other.get(), "does not unwrap");
}

TEST_F(SealedTest, UnknownKeyIdIsNotFound) {
  const std::string plain = Text(300);
  const std::string sealed = Seal(plain);
  auto other = Provider({{"k2", Key('A')}}, "keyring /etc/other");
  ExpectRejected(sealed, absl::StatusCode::kNotFound, plain, other.get(),
                 "sealed with key k1, which is not in keyring /etc/other");
}

TEST_F(SealedTest, EmptyInputIsDataLoss) {
  ExpectRejected("", absl::StatusCode::kDataLoss, "", nullptr, "empty");
}

TEST_F(SealedTest, TruncatedHeaderIsDataLoss) {
  const std::string sealed = Seal(Text(10));
  for (size_t n : {size_t{1}, size_t{8}, size_t{100}, kSealedHeaderSize - 1}) {
    ExpectRejected(sealed.substr(0, n), absl::StatusCode::kDataLoss, "", nullptr,
                   n < 8 ? "" : "truncated header");
  }
}

TEST_F(SealedTest, HeaderWithoutSegmentsIsTruncated) {
  const std::string sealed = Seal("");
  ASSERT_EQ(sealed.size(), kSealedHeaderSize + kSealedTagSize);
  ExpectRejected(sealed.substr(0, kSealedHeaderSize), absl::StatusCode::kDataLoss, "", nullptr,
                 "truncated");
}

TEST_F(SealedTest, TruncatedAtEverySegmentBoundaryIsDataLoss) {
  const std::string plain = Text(300);  // 4 full segments and a final one of 44 bytes
  const std::string sealed = Seal(plain);
  for (size_t k = 1; k <= 4; ++k) {
    ExpectRejected(sealed.substr(0, kSealedHeaderSize + k * kFull), absl::StatusCode::kDataLoss,
                   plain, nullptr, "truncated");
  }
}

TEST_F(SealedTest, TruncatedInsideASegmentIsDataLoss) {
  const std::string plain = Text(300);
  const std::string sealed = Seal(plain);
  for (size_t cut : {kSealedHeaderSize + 1, kSealedHeaderSize + 15, kSealedHeaderSize + 40,
                     kSealedHeaderSize + kFull + 50, sealed.size() - 1, sealed.size() - 20}) {
    ExpectRejected(sealed.substr(0, cut), absl::StatusCode::kDataLoss, plain);
  }
}

TEST_F(SealedTest, FlippedBitInEachHeaderField) {
  const std::string plain = Text(300);
  const std::string sealed = Seal(plain);
  struct Field {
    const char* name;
    size_t offset;
    int bit;
    absl::StatusCode code;
  };
  const Field fields[] = {
      {"magic", 0, 0, absl::StatusCode::kDataLoss},
      {"magic", 5, 3, absl::StatusCode::kDataLoss},
      {"version", 8, 1, absl::StatusCode::kFailedPrecondition},
      {"version", 8, 0, absl::StatusCode::kFailedPrecondition},
      {"suite", 9, 2, absl::StatusCode::kFailedPrecondition},
      {"reserved", 10, 0, absl::StatusCode::kDataLoss},
      {"segment size (still in range)", 15, 0, absl::StatusCode::kDataLoss},
      {"segment size (out of range)", 12, 7, absl::StatusCode::kDataLoss},
      {"salt", 16, 4, absl::StatusCode::kDataLoss},
      {"salt", 47, 7, absl::StatusCode::kDataLoss},
      {"nonce prefix", 48, 0, absl::StatusCode::kDataLoss},
      {"nonce prefix", 54, 6, absl::StatusCode::kDataLoss},
      {"reserved", 60, 1, absl::StatusCode::kDataLoss},
      {"key id length", 64, 0, absl::StatusCode::kDataLoss},
      {"key id", 66, 0, absl::StatusCode::kNotFound},  // "k1" becomes "k0"
      {"key id", 65, 5, absl::StatusCode::kNotFound},  // "k1" becomes "K1"
      {"key id padding", 100, 0, absl::StatusCode::kDataLoss},
      {"reserved", 130, 0, absl::StatusCode::kDataLoss},
      {"wrap nonce", 132, 0, absl::StatusCode::kDataLoss},
      {"wrap nonce", 143, 7, absl::StatusCode::kDataLoss},
      {"wrapped key", 144, 0, absl::StatusCode::kDataLoss},
      {"wrapped key", 175, 3, absl::StatusCode::kDataLoss},
      {"wrap tag", 176, 0, absl::StatusCode::kDataLoss},
      {"wrap tag", 191, 7, absl::StatusCode::kDataLoss},
  };
  for (const Field& f : fields) {
    SCOPED_TRACE(f.name + std::string(" at ") + std::to_string(f.offset));
    std::string damaged = sealed;
    damaged[f.offset] ^= static_cast<char>(1 << f.bit);
    ExpectRejected(damaged, f.code, plain);
  }
}

TEST_F(SealedTest, FlippedBitInFirstMiddleAndLastSegment) {
  const std::string plain = Text(300);
  const std::string sealed = Seal(plain);
  for (size_t segment : {0, 2, 4}) {
    for (size_t within : {size_t{0}, size_t{33}, kFull - 1}) {  // data and tag bytes
      const size_t at = kSealedHeaderSize + segment * kFull + within;
      if (at >= sealed.size()) continue;
      std::string damaged = sealed;
      damaged[at] ^= 0x10;
      SCOPED_TRACE(at);
      ExpectRejected(damaged, absl::StatusCode::kDataLoss, plain, nullptr,
                     "segment " + std::to_string(segment) + " does not authenticate");
      // Exactly the segments before the damaged one were handed out.
      EXPECT_EQ(Stream(damaged, *keys_).plaintext, plain.substr(0, segment * kSmallSegment));
    }
  }
}

TEST_F(SealedTest, ReorderedSegmentsAreDataLoss) {
  const std::string plain = Text(300);
  const std::string sealed = Seal(plain);
  std::string swapped = sealed;
  const size_t a = kSealedHeaderSize + 1 * kFull;
  const size_t b = kSealedHeaderSize + 2 * kFull;
  std::copy(sealed.begin() + b, sealed.begin() + b + kFull, swapped.begin() + a);
  std::copy(sealed.begin() + a, sealed.begin() + a + kFull, swapped.begin() + b);
  ExpectRejected(swapped, absl::StatusCode::kDataLoss, plain, nullptr,
                 "segment 1 does not authenticate");
  // Moving the final segment forward and dropping the rest.
  std::string shortened =
      sealed.substr(0, kSealedHeaderSize + kFull) + sealed.substr(kSealedHeaderSize + 4 * kFull);
  ExpectRejected(shortened, absl::StatusCode::kDataLoss, plain);
}

TEST_F(SealedTest, SegmentSplicedFromAnotherFileWithTheSameKeyIsDataLoss) {
  const std::string plain = Text(300);
  const std::string a = Seal(plain);
  const std::string b = Seal(plain);  // same key, same text, same length
  std::string spliced = a;
  const size_t at = kSealedHeaderSize + 2 * kFull;
  std::copy(b.begin() + at, b.begin() + at + kFull, spliced.begin() + at);
  ExpectRejected(spliced, absl::StatusCode::kDataLoss, plain, nullptr,
                 "segment 2 does not authenticate");
  // The header of one file on the payload of the other.
  std::string swapped_header = b.substr(0, kSealedHeaderSize) + a.substr(kSealedHeaderSize);
  ExpectRejected(swapped_header, absl::StatusCode::kDataLoss, plain, nullptr,
                 "segment 0 does not authenticate");
}

TEST_F(SealedTest, AppendedBytesAreDataLoss) {
  const std::string plain = Text(300);
  const std::string sealed = Seal(plain);
  const std::string final_segment = sealed.substr(kSealedHeaderSize + 4 * kFull);
  for (const std::string& extra : {std::string("x"), std::string(16, '\0'), std::string(kFull, 'z'),
                                   final_segment, sealed.substr(kSealedHeaderSize, kFull)}) {
    SCOPED_TRACE(extra.size());
    ExpectRejected(sealed + extra, absl::StatusCode::kDataLoss, plain);
  }
  // An empty payload extended by a whole sealed file's worth of bytes.
  const std::string empty = Seal("");
  ExpectRejected(empty + empty.substr(kSealedHeaderSize), absl::StatusCode::kDataLoss, "");
}

TEST_F(SealedTest, NotASealedFileIsDataLoss) {
  ExpectRejected("CHIEF COMPLAINT: cough\n" + std::string(300, 'x'), absl::StatusCode::kDataLoss,
                 "", nullptr, "not a sealed file");
}

// ---------------------------------------------------------------------------
// Rewrap

TEST_F(SealedTest, RewrapMovesAFileToTheNewKeyWithoutTouchingThePayload) {
  TempDir dir;
  const std::string path = dir.File("chart.sealed");
  const std::string plain = Text(1000);
  const std::string before = Seal(plain, kDefaultSegmentSize);
  WriteFileOrDie(path, before);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);

  auto both = Provider({{"k2", Key('B')}, {"k1", Key('A')}});  // k2 active, k1 kept
  absl::StatusOr<RewrapResult> r = RewrapSealedFile(path, *both);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->old_key_id, "k1");
  EXPECT_EQ(r->new_key_id, "k2");

  const std::string after = ReadFileOrDie(path);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after.substr(0, internal::kStreamParamsSize),
            before.substr(0, internal::kStreamParamsSize));
  EXPECT_EQ(after.substr(kSealedHeaderSize), before.substr(kSealedHeaderSize));  // payload as is
  EXPECT_EQ(InspectSealed(after)->key_id, "k2");
  EXPECT_EQ(FileMode(path), 0640u);

  auto only_new = Provider({{"k2", Key('B')}});
  EXPECT_EQ(*UnsealBytes(after, *only_new), plain);
  EXPECT_EQ(UnsealBytes(after, *keys_).status().code(), absl::StatusCode::kNotFound);

  // Again: nothing to do, and the file is not rewritten.
  absl::StatusOr<RewrapResult> again = RewrapSealedFile(path, *both);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  // Explicitly back to k1.
  ASSERT_TRUE(RewrapSealedFile(path, *both, "k1").ok());
  EXPECT_EQ(*UnsealBytes(ReadFileOrDie(path), *keys_), plain);
}

TEST_F(SealedTest, RewrapFailuresLeaveTheFileAlone) {
  TempDir dir;
  const std::string path = dir.File("chart.sealed");
  const std::string before = Seal(Text(200));
  WriteFileOrDie(path, before);
  auto wrong_old = Provider({{"k2", Key('B')}, {"k1", Key('C')}});
  EXPECT_EQ(RewrapSealedFile(path, *wrong_old).status().code(), absl::StatusCode::kDataLoss);
  auto no_old = Provider({{"k2", Key('B')}});
  EXPECT_EQ(RewrapSealedFile(path, *no_old).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(RewrapSealedFile(path, *keys_, "k9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFileOrDie(path), before);
  WriteFileOrDie(dir.File("plain"), "not sealed");
  EXPECT_EQ(RewrapSealedFile(dir.File("plain"), *keys_).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(RewrapSealedFile(dir.File("missing"), *keys_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ListDir(dir.path()),
            (std::vector<std::string>{"chart.sealed", "plain"}));  // no temporary files left
}

}  // namespace
}  // namespace chartcoder
