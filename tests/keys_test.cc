#include "chartcoder/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/crypto.h"
#include "src/internal/strings.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::chartcoder::testing::FileMode;
using ::chartcoder::testing::ReadFileOrDie;
using ::chartcoder::testing::TempDir;
using ::chartcoder::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

// Cheap scrypt for tests (1 MiB); the cost is stored in the file.
KeyringOptions FastOptions(std::string passphrase = "") {
  KeyringOptions o;
  o.passphrase = std::move(passphrase);
  o.scrypt_log2_n = 10;
  return o;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// The base64 key material in a keyring's text, which must never show up in
// messages or listings.
std::vector<std::string> KeyMaterial(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view line : internal::Split(text, '\n')) {
    if (line.starts_with("key ")) out.emplace_back(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

TEST(SecretKeyTest, GenerateGivesDistinctKeysAndMoveWipesTheSource) {
  absl::StatusOr<SecretKey> a = SecretKey::Generate();
  absl::StatusOr<SecretKey> b = SecretKey::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->empty());
  EXPECT_NE(std::string(reinterpret_cast<const char*>(a->data()), 32),
            std::string(reinterpret_cast<const char*>(b->data()), 32));
  SecretKey copy = a->Copy();
  SecretKey moved = std::move(*a);
  EXPECT_TRUE(a->empty());  // NOLINT: checking the moved-from state on purpose
  EXPECT_EQ(std::string(a->data(), a->data() + 32), std::string(32, '\0'));
  EXPECT_EQ(std::string(moved.data(), moved.data() + 32),
            std::string(copy.data(), copy.data() + 32));
}

TEST(SecretKeyTest, FromBytesNeedsExactly32Bytes) {
  EXPECT_TRUE(SecretKey::FromBytes(std::string(32, 'k')).ok());
  EXPECT_EQ(SecretKey::FromBytes(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SecretKey::FromBytes(std::string(33, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeyIdTest, Validation) {
  EXPECT_TRUE(IsValidKeyId("k1"));
  EXPECT_TRUE(IsValidKeyId("prod-2026.11_a"));
  EXPECT_TRUE(IsValidKeyId(std::string(63, 'a')));
  EXPECT_FALSE(IsValidKeyId(""));
  EXPECT_FALSE(IsValidKeyId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidKeyId("-leading"));
  EXPECT_FALSE(IsValidKeyId("has space"));
  EXPECT_FALSE(IsValidKeyId("colon:x"));
  EXPECT_FALSE(IsValidKeyId("slash/x"));
}

TEST(Base64Test, RoundTripsAndRejectsNonCanonicalText) {
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(i * 37 + 11));
    std::string text = internal::Base64Encode(internal::Bytes(bytes));
    std::string back(n + 3, '\0');
    absl::StatusOr<size_t> got = internal::Base64Decode(text, internal::MutableBytes(&back));
    ASSERT_TRUE(got.ok()) << n;
    back.resize(*got);
    EXPECT_EQ(back, bytes);
  }
  EXPECT_EQ(internal::Base64Encode(internal::Bytes("foobar")), "Zm9vYmFy");  // RFC 4648
  EXPECT_EQ(internal::Base64Encode(internal::Bytes("fo")), "Zm8=");
  uint8_t out[8];
  EXPECT_TRUE(internal::Base64Decode("Zm8", absl::MakeSpan(out)).ok());    // unpadded
  EXPECT_FALSE(internal::Base64Decode("Zm9=", absl::MakeSpan(out)).ok());  // bits left over
  EXPECT_FALSE(internal::Base64Decode("Zm8*", absl::MakeSpan(out)).ok());
  EXPECT_FALSE(internal::Base64Decode("Z", absl::MakeSpan(out)).ok());
  EXPECT_FALSE(internal::Base64Decode("Zm9vYmFyZm9v", absl::MakeSpan(out)).ok());  // 9 > 8
}

TEST(InMemoryKeyProviderTest, ParsesSpecsFirstIsActive) {
  absl::StatusOr<SecretKey> k1 = SecretKey::Generate();
  absl::StatusOr<SecretKey> k2 = SecretKey::Generate();
  std::string specs = FormatKeySpec("new", *k2) + ", " + FormatKeySpec("old", *k1) + "\n";
  auto p = InMemoryKeyProvider::Parse(specs, "$CHARTCODER_KEY");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*(*p)->ActiveKeyId(), "new");
  absl::StatusOr<SecretKey> got = (*p)->GetKey("old");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(got->data(), got->data() + 32), std::string(k1->data(), k1->data() + 32));
  absl::StatusOr<SecretKey> missing = (*p)->GetKey("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing.status()), HasSubstr("nope"));
  EXPECT_THAT(Message(missing.status()), HasSubstr("$CHARTCODER_KEY"));
}

TEST(InMemoryKeyProviderTest, RejectsBadSpecsWithoutEchoingThem) {
  const std::string secretish = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
  for (const std::string& bad : {std::string(""), std::string(" ,\n"), secretish /* no id */,
                                 "bad id:" + secretish, "k1:" + secretish.substr(0, 40),
                                 "k1:" + secretish + ",k1:" + secretish, std::string("k1:!!!!")}) {
    auto p = InMemoryKeyProvider::Parse(bad, "$CHARTCODER_KEY");
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(Message(p.status()), Not(HasSubstr(secretish.substr(0, 20)))) << bad;
  }
}

TEST(KeyProviderFromFdTest, ReadsSpecsFromAPipe) {
  absl::StatusOr<SecretKey> k = SecretKey::Generate();
  std::string spec = FormatKeySpec("fdkey", *k) + "\n";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], spec.data(), spec.size()), static_cast<ssize_t>(spec.size()));
  ::close(fds[1]);
  auto p = KeyProviderFromFd(fds[0]);  // closes fds[0]
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*(*p)->ActiveKeyId(), "fdkey");
  EXPECT_TRUE((*p)->GetKey("fdkey").ok());
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1);  // closed
}

TEST(KeyProviderFromEnvironmentTest, FdTakesPrecedenceOverKeyAndNoneGivesNull) {
  ::unsetenv(kKeyEnvVar);
  ::unsetenv(kKeyFdEnvVar);
  auto none = KeyProviderFromEnvironment();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);

  absl::StatusOr<SecretKey> k = SecretKey::Generate();
  ::setenv(kKeyEnvVar, FormatKeySpec("envkey", *k).c_str(), 1);
  auto env = KeyProviderFromEnvironment();
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(*(*env)->ActiveKeyId(), "envkey");
  EXPECT_EQ((*env)->Describe(), "$CHARTCODER_KEY");

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string spec = FormatKeySpec("fdkey", *k);
  ASSERT_EQ(::write(fds[1], spec.data(), spec.size()), static_cast<ssize_t>(spec.size()));
  ::close(fds[1]);
  ::setenv(kKeyFdEnvVar, std::to_string(fds[0]).c_str(), 1);
  auto fd = KeyProviderFromEnvironment();
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(*(*fd)->ActiveKeyId(), "fdkey");

  ::setenv(kKeyFdEnvVar, "three", 1);
  EXPECT_EQ(KeyProviderFromEnvironment().status().code(), absl::StatusCode::kInvalidArgument);
  ::unsetenv(kKeyFdEnvVar);
  ::setenv(kKeyEnvVar, "garbage", 1);
  EXPECT_EQ(KeyProviderFromEnvironment().status().code(), absl::StatusCode::kInvalidArgument);
  ::unsetenv(kKeyEnvVar);
}

TEST(KeyringTest, CreateMakesAPrivateFileWithOneActiveKeyEvenUnderAPermissiveUmask) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  mode_t old = ::umask(0);
  auto ring = Keyring::Create(path, FastOptions());
  ::umask(old);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(FileMode(path), 0600u);
  std::vector<KeyInfo> keys = (*ring)->List();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys[0].active);
  EXPECT_TRUE(IsValidKeyId(keys[0].id));
  EXPECT_THAT(keys[0].id, ::testing::MatchesRegex("k[0-9]{8}-[0-9a-f]{8}"));
  EXPECT_THAT(keys[0].created, ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
  EXPECT_EQ(*(*ring)->ActiveKeyId(), keys[0].id);
  EXPECT_FALSE((*ring)->is_protected());

  auto reopened = Keyring::Open(path, {});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<SecretKey> a = (*ring)->GetKey(keys[0].id);
  absl::StatusOr<SecretKey> b = (*reopened)->GetKey(keys[0].id);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(std::string(a->data(), a->data() + 32), std::string(b->data(), b->data() + 32));
}

TEST(KeyringTest, CreateRefusesAnExistingFileAndBadIds) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  WriteFileOrDie(path, "not mine");
  auto ring = Keyring::Create(path, FastOptions());
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFileOrDie(path), "not mine");
  AddKeyOptions bad;
  bad.id = "no spaces allowed";
  EXPECT_EQ(Keyring::Create(dir.File("other"), FastOptions(), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(::access(dir.File("other").c_str(), F_OK), 0);
}

TEST(KeyringTest, OpenRefusesGroupOrWorldAccessibleFiles) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  ASSERT_TRUE(Keyring::Create(path, FastOptions()).ok());
  for (mode_t mode : {0640, 0604, 0660, 0644, 0610}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto ring = Keyring::Open(path, {});
    EXPECT_EQ(ring.status().code(), absl::StatusCode::kFailedPrecondition) << std::oct << mode;
    EXPECT_THAT(Message(ring.status()), HasSubstr("chmod 600"));
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(Keyring::Open(path, {}).ok());
}

TEST(KeyringTest, OpenMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(Keyring::Open(dir.File("nope"), {}).status().code(), absl::StatusCode::kNotFound);
}

TEST(KeyringTest, AddAndRotateKeepOldKeysForReading) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  auto ring = Keyring::Create(path, FastOptions(), {"first", true});
  ASSERT_TRUE(ring.ok());
  absl::StatusOr<SecretKey> first = (*ring)->GetKey("first");
  ASSERT_TRUE(first.ok());

  absl::StatusOr<std::string> added = Keyring::AddKey(path, FastOptions(), {"standby", false});
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, "standby");
  EXPECT_EQ(*(*Keyring::Open(path, {}))->ActiveKeyId(), "first");

  absl::StatusOr<std::string> rotated = Keyring::Rotate(path, FastOptions());
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  auto after = Keyring::Open(path, {});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*(*after)->ActiveKeyId(), *rotated);
  std::vector<KeyInfo> keys = (*after)->List();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].id, "first");
  EXPECT_FALSE(keys[0].active);
  EXPECT_EQ(keys[2].id, *rotated);
  EXPECT_TRUE(keys[2].active);
  // The old key material is unchanged, so files sealed before still open.
  absl::StatusOr<SecretKey> still = (*after)->GetKey("first");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(std::string(still->data(), still->data() + 32),
            std::string(first->data(), first->data() + 32));
  EXPECT_EQ(FileMode(path), 0600u);

  EXPECT_EQ(Keyring::AddKey(path, FastOptions(), {"first", false}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(KeyringTest, RemoveKeyDeletesRetiredKeysOnly) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  ASSERT_TRUE(Keyring::Create(path, FastOptions(), {"old", true}).ok());
  absl::StatusOr<std::string> current = Keyring::Rotate(path, FastOptions());
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(Keyring::RemoveKey(path, FastOptions(), *current).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Keyring::RemoveKey(path, FastOptions(), "nope").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Keyring::RemoveKey(path, FastOptions(), "old").ok());
  auto ring = Keyring::Open(path, {});
  ASSERT_TRUE(ring.ok());
  ASSERT_EQ((*ring)->List().size(), 1u);
  EXPECT_EQ((*ring)->List()[0].id, *current);
  EXPECT_EQ((*ring)->GetKey("old").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FileMode(path), 0600u);
}

TEST(KeyringTest, ConcurrentRotationsLoseNoKey) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  ASSERT_TRUE(Keyring::Create(path, FastOptions()).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&path, t] {
      for (int i = 0; i < 5; ++i) {
        AddKeyOptions o;
        o.id = internal::StrCat("t", t, "-", i);
        EXPECT_TRUE(Keyring::AddKey(path, FastOptions(), o).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto ring = Keyring::Open(path, {});
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ((*ring)->List().size(), 21u);
}

TEST(KeyringTest, PassphraseProtectedRoundTrip) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  auto ring = Keyring::Create(path, FastOptions("correct horse"));
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_TRUE((*ring)->is_protected());
  const std::string id = *(*ring)->ActiveKeyId();
  const std::string text = ReadFileOrDie(path);
  EXPECT_THAT(text, HasSubstr("protection scrypt log2n=10 r=8 p=1 salt="));
  EXPECT_THAT(text, Not(HasSubstr(id)));  // even the ids are inside the sealed part
  EXPECT_EQ(FileMode(path), 0600u);

  auto opened = Keyring::Open(path, FastOptions("correct horse"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*(*opened)->ActiveKeyId(), id);

  auto none = Keyring::Open(path, {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(none.status()), HasSubstr("--passphrase-file"));
  auto wrong = Keyring::Open(path, FastOptions("wrong horse"));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(wrong.status()), HasSubstr("wrong passphrase"));

  // Rotation keeps the protection and the passphrase.
  absl::StatusOr<std::string> rotated = Keyring::Rotate(path, FastOptions("correct horse"));
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  auto after = Keyring::Open(path, FastOptions("correct horse"));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE((*after)->is_protected());
  EXPECT_EQ((*after)->List().size(), 2u);
}

TEST(KeyringTest, ProtectedKeyringDetectsChangedParametersAndCiphertext) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  ASSERT_TRUE(Keyring::Create(path, FastOptions("pw")).ok());
  const std::string text = ReadFileOrDie(path);
  auto try_text = [&](const std::string& changed) {
    WriteFileOrDie(path, changed);
    ::chmod(path.c_str(), 0600);
    return Keyring::Open(path, FastOptions("pw")).status();
  };
  // The cost parameters are bound to the ciphertext.
  std::string cheaper = text;
  cheaper.replace(cheaper.find("r=8"), 3, "r=4");
  EXPECT_EQ(try_text(cheaper).code(), absl::StatusCode::kDataLoss);
  // A flipped bit in the sealed keys.
  std::string flipped = text;
  size_t at = flipped.find("sealed ") + 20;
  flipped[at] = flipped[at] == 'A' ? 'B' : 'A';
  EXPECT_EQ(try_text(flipped).code(), absl::StatusCode::kDataLoss);
  // Parameters beyond the memory limit are refused before any work.
  std::string huge = text;
  huge.replace(huge.find("log2n=10"), 8, "log2n=30");
  EXPECT_EQ(try_text(huge).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(try_text(text).ok());
}

TEST(KeyringTest, SetPassphraseAddsChangesAndRemovesProtection) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  auto ring = Keyring::Create(path, FastOptions());
  ASSERT_TRUE(ring.ok());
  const std::string id = *(*ring)->ActiveKeyId();
  ASSERT_TRUE(Keyring::SetPassphrase(path, FastOptions(), "one").ok());
  EXPECT_EQ(Keyring::Open(path, {}).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Keyring::SetPassphrase(path, FastOptions("one"), "two").ok());
  EXPECT_EQ(Keyring::Open(path, FastOptions("one")).status().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(Keyring::Open(path, FastOptions("two")).ok());
  ASSERT_TRUE(Keyring::SetPassphrase(path, FastOptions("two"), "").ok());
  auto plain = Keyring::Open(path, {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*(*plain)->ActiveKeyId(), id);
  // A passphrase for an unprotected keyring is reported, not ignored.
  EXPECT_EQ(Keyring::Open(path, FastOptions("two")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(KeyringTest, MalformedFilesAreDataLossAndNeverEchoKeyMaterial) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  ASSERT_TRUE(Keyring::Create(path, FastOptions(), {"a", true}).ok());
  const std::string good = ReadFileOrDie(path);
  const std::string material = KeyMaterial(good).at(0);
  struct Case {
    std::string name;
    std::string text;
  };
  std::string two_active = good + "key b 2026-01-01T00:00:00Z active " + material + "\n";
  std::string dup = good + "key a 2026-01-01T00:00:00Z retired " + material + "\n";
  std::string short_key = good;
  short_key.replace(short_key.find(material), material.size(), material.substr(0, 40));
  std::string bad_state = good;
  bad_state.replace(bad_state.find(" active "), 8, " primary ");
  std::vector<Case> cases = {
      {"no magic", "key a 2026-01-01T00:00:00Z active " + material + "\n"},
      {"no keys", "chartcoder-keyring v1\n"},
      {"two active", two_active},
      {"duplicate id", dup},
      {"short key", short_key},
      {"bad state", bad_state},
      {"extra field", good.substr(0, good.size() - 1) + " extra\n"},
  };
  for (const Case& c : cases) {
    WriteFileOrDie(path, c.text);
    ::chmod(path.c_str(), 0600);
    absl::Status s = Keyring::Open(path, {}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.name << ": " << s;
    EXPECT_THAT(Message(s), Not(HasSubstr(material.substr(0, 16)))) << c.name;
  }
}

TEST(KeyringTest, ConcurrentReadersShareOneKeyring) {
  TempDir dir;
  const std::string path = dir.File("keyring");
  auto ring = Keyring::Create(path, FastOptions(), {"shared", true});
  ASSERT_TRUE(ring.ok());
  const Keyring& r = **ring;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r] {
      for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(r.GetKey("shared").ok());
        EXPECT_EQ(*r.ActiveKeyId(), "shared");
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace
}  // namespace chartcoder
