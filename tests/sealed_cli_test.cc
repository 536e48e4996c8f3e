// The key and crypto commands end to end: keygen, keys, encrypt, decrypt,
// inspect, rewrap, and keys from the environment.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "chartcoder/sealed.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/internal/strings.h"
#include "tests/test_support.h"

namespace chartcoder {
namespace {

using ::chartcoder::testing::CommandResult;
using ::chartcoder::testing::FileMode;
using ::chartcoder::testing::ListDir;
using ::chartcoder::testing::ReadFileOrDie;
using ::chartcoder::testing::RunCli;
using ::chartcoder::testing::TempDir;
using ::chartcoder::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kChart[] =
    "HPI: 72-year-old with CHF (EF 30%), CKD stage 4 and type 2 diabetes.\n"
    "PLAN: continue furosemide; nephrology follow-up.\n";

// Sets an environment variable for the life of the object (the CLI runs as a
// child process and inherits it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

std::string Trimmed(const std::string& s) { return std::string(internal::Trim(s)); }

// One line on stderr, no key material.
void ExpectOneErrorLine(const CommandResult& r, const std::string& secret = "") {
  EXPECT_FALSE(r.err.empty());
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("chartcoder"));
  if (!secret.empty()) {
    EXPECT_THAT(r.err, Not(HasSubstr(secret)));
  }
}

class SealedCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"CHARTCODER_KEY", "CHARTCODER_KEY_FD", "CHARTCODER_KEYRING"}) {
      ::unsetenv(v);
    }
    keyring_ = dir_.File("keyring");
    CommandResult r = RunCli({"keygen", "--keyring", keyring_, "--id", "k1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    chart_ = dir_.File("chart.txt");
    WriteFileOrDie(chart_, kChart);
  }

  // The base64 key material of `id`, as `keys export` prints it.
  std::string Exported(const std::string& id, const std::string& keyring = "") {
    CommandResult r =
        RunCli({"keys", "export", "--keyring", keyring.empty() ? keyring_ : keyring, "--id", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Trimmed(r.out);
  }

  // Seals the chart into `name` with the test keyring.
  std::string SealChart(const std::string& name = "chart.sealed") {
    const std::string out = dir_.File(name);
    CommandResult r = RunCli({"encrypt", "--keyring", keyring_, chart_, out});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

  // decrypt must fail with exit code 2, one line on stderr naming `why`, and
  // no output file.
  void ExpectDecryptFails(const std::string& in, const std::string& why,
                          std::vector<std::string> extra = {}) {
    const std::string out = dir_.File("out.txt");
    std::vector<std::string> args = {"decrypt", "--keyring", keyring_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(in);
    args.push_back(out);
    CommandResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    ExpectOneErrorLine(r);
    EXPECT_THAT(r.err, HasSubstr(why));
    EXPECT_NE(::access(out.c_str(), F_OK), 0) << "decrypt wrote output for a bad file";
    for (const std::string& name : ListDir(dir_.path())) {
      EXPECT_THAT(name, Not(HasSubstr(".tmp"))) << "temporary file left behind";
    }
  }

  TempDir dir_;
  std::string keyring_;
  std::string chart_;
};

TEST_F(SealedCliTest, KeygenCreatesAPrivateKeyringAndAddsKeys) {
  EXPECT_EQ(FileMode(keyring_), 0600u);
  CommandResult added = RunCli({"keygen", "--keyring", keyring_});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = Trimmed(added.out);
  EXPECT_THAT(id, MatchesRegex("k[0-9]{8}-[0-9a-f]{8}"));
  EXPECT_THAT(added.err, HasSubstr("not active"));

  CommandResult list = RunCli({"keys", "list", "--keyring", keyring_});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, MatchesRegex("k1 +[0-9T:Z-]+  active\n" + id + " +[0-9T:Z-]+  retired\n"));
  CommandResult json = RunCli({"keys", "list", "--json", "--keyring", keyring_});
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out, HasSubstr("\"protected\":false"));
  EXPECT_THAT(json.out, HasSubstr("{\"id\":\"k1\",\"created\":"));
  // Listing never shows key material.
  EXPECT_THAT(list.out + json.out, Not(HasSubstr(Exported("k1").substr(3, 20))));

  CommandResult activated = RunCli({"keygen", "--keyring", keyring_, "--id", "k3", "--activate"});
  ASSERT_EQ(activated.exit_code, 0) << activated.err;
  EXPECT_THAT(RunCli({"keys", "list", "--keyring", keyring_}).out, HasSubstr("k3 "));
  EXPECT_THAT(RunCli({"keys", "list", "--keyring", keyring_}).out,
              MatchesRegex("(.|\n)*k3 +[0-9T:Z-]+  active\n"));

  CommandResult bad = RunCli({"keygen", "--keyring", keyring_, "--id", "bad id"});
  EXPECT_EQ(bad.exit_code, 2);
  ExpectOneErrorLine(bad);
  CommandResult dup = RunCli({"keygen", "--keyring", keyring_, "--id", "k1"});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_THAT(dup.err, HasSubstr("already has a key k1"));
  EXPECT_EQ(RunCli({"keygen"}).exit_code, 1);
}

TEST_F(SealedCliTest, EncryptDecryptRoundTrip) {
  const std::string sealed = SealChart();
  const std::string bytes = ReadFileOrDie(sealed);
  EXPECT_THAT(bytes, StartsWith(std::string(kSealedMagic)));
  EXPECT_THAT(bytes, Not(HasSubstr("furosemide")));
  EXPECT_EQ(FileMode(sealed), 0600u);
  CommandResult r = RunCli({"decrypt", "--keyring", keyring_, sealed, dir_.File("out.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("authenticated"));
  EXPECT_THAT(r.err, Not(HasSubstr("furosemide")));  // never chart text on stderr
  EXPECT_EQ(ReadFileOrDie(dir_.File("out.txt")), kChart);
  EXPECT_EQ(FileMode(dir_.File("out.txt")), 0600u);
}

TEST_F(SealedCliTest, EncryptStreamsFromStandardInputToStandardOutput) {
  CommandResult r = RunCli({"encrypt", "--keyring", keyring_, "-", "-"}, kChart);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), SealedSize(sizeof(kChart) - 1));
  WriteFileOrDie(dir_.File("piped.sealed"), r.out);
  CommandResult d = RunCli({"decrypt", "--keyring", keyring_, "-", dir_.File("out.txt")}, r.out);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(ReadFileOrDie(dir_.File("out.txt")), kChart);
}

TEST_F(SealedCliTest, DecryptNeverWritesToStandardOutput) {
  const std::string sealed = SealChart();
  CommandResult r = RunCli({"decrypt", "--keyring", keyring_, sealed, "-"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
}

TEST_F(SealedCliTest, WithoutAKeyTheErrorNamesTheKeyringFlag) {
  const std::string sealed = SealChart();
  CommandResult r = RunCli({"decrypt", sealed, dir_.File("out.txt")});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("--keyring"));
  EXPECT_THAT(r.err, HasSubstr("CHARTCODER_KEY"));
  EXPECT_EQ(RunCli({"encrypt", chart_, dir_.File("x")}).exit_code, 2);
}

TEST_F(SealedCliTest, EveryDamagedInputExitsTwoAndWritesNothing) {
  const std::string sealed = ReadFileOrDie(SealChart());
  const std::string secret = Exported("k1").substr(3);
  auto write = [&](const std::string& name, const std::string& bytes) {
    WriteFileOrDie(dir_.File(name), bytes);
    return dir_.File(name);
  };
  std::string flipped_header = sealed;
  flipped_header[20] ^= 1;  // the salt
  std::string flipped_segment = sealed;
  flipped_segment[kSealedHeaderSize + 10] ^= 1;
  std::string flipped_tag = sealed;
  flipped_tag[sealed.size() - 1] ^= 0x80;

  ExpectDecryptFails(write("trunc.sealed", sealed.substr(0, sealed.size() - 7)),
                     "does not authenticate");
  ExpectDecryptFails(write("header-only.sealed", sealed.substr(0, kSealedHeaderSize)), "truncated");
  ExpectDecryptFails(write("short-header.sealed", sealed.substr(0, 100)), "truncated header");
  ExpectDecryptFails(write("header.sealed", flipped_header), "does not unwrap");
  ExpectDecryptFails(write("segment.sealed", flipped_segment), "segment 0 does not authenticate");
  ExpectDecryptFails(write("tag.sealed", flipped_tag), "segment 0 does not authenticate");
  ExpectDecryptFails(write("appended.sealed", sealed + "more"), "does not authenticate");
  ExpectDecryptFails(write("empty.sealed", ""), "empty");
  ExpectDecryptFails(chart_, "not a sealed file");
  ExpectDecryptFails(dir_.File("missing.sealed"), "No such file");

  // Unknown key id: a keyring without k1.
  const std::string other = dir_.File("other-keyring");
  ASSERT_EQ(RunCli({"keygen", "--keyring", other, "--id", "k2"}).exit_code, 0);
  CommandResult unknown = RunCli({"decrypt", "--keyring", other,
                                  dir_.File("header-only.sealed") /* any */, dir_.File("out.txt")});
  EXPECT_EQ(unknown.exit_code, 2);
  CommandResult r =
      RunCli({"decrypt", "--keyring", other, write("ok.sealed", sealed), dir_.File("out.txt")});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, secret);
  EXPECT_THAT(r.err, HasSubstr("sealed with key k1, which is not in keyring"));
  EXPECT_NE(::access(dir_.File("out.txt").c_str(), F_OK), 0);

  // Wrong key: another keyring whose key is also called k1.
  const std::string impostor = dir_.File("impostor-keyring");
  ASSERT_EQ(RunCli({"keygen", "--keyring", impostor, "--id", "k1"}).exit_code, 0);
  r = RunCli({"decrypt", "--keyring", impostor, dir_.File("ok.sealed"), dir_.File("out.txt")});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, secret);
  EXPECT_THAT(r.err, HasSubstr("does not unwrap with key k1"));
  EXPECT_NE(::access(dir_.File("out.txt").c_str(), F_OK), 0);
}

TEST_F(SealedCliTest, AFailedDecryptKeepsAnExistingOutputFile) {
  const std::string sealed = ReadFileOrDie(SealChart());
  WriteFileOrDie(dir_.File("bad.sealed"), sealed.substr(0, sealed.size() - 1));
  WriteFileOrDie(dir_.File("out.txt"), "previous results");
  CommandResult r =
      RunCli({"decrypt", "--keyring", keyring_, dir_.File("bad.sealed"), dir_.File("out.txt")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(ReadFileOrDie(dir_.File("out.txt")), "previous results");
}

TEST_F(SealedCliTest, KeyringReadableByOthersIsRefused) {
  ASSERT_EQ(::chmod(keyring_.c_str(), 0644), 0);
  CommandResult r = RunCli({"encrypt", "--keyring", keyring_, chart_, dir_.File("x")});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r);
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));
  EXPECT_NE(::access(dir_.File("x").c_str(), F_OK), 0);
}

TEST_F(SealedCliTest, InspectShowsTheHeaderOnly) {
  const std::string sealed = SealChart();
  CommandResult r = RunCli({"inspect", sealed});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("key id:        k1"));
  EXPECT_THAT(r.out, HasSubstr("segment size:  65536 bytes"));
  EXPECT_THAT(r.out, HasSubstr("payload size:  " + std::to_string(sizeof(kChart) - 1)));
  EXPECT_THAT(r.out, Not(HasSubstr("furosemide")));
  CommandResult json = RunCli({"inspect", "--json", sealed});
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out, HasSubstr("\"key_id\":\"k1\""));
  EXPECT_THAT(json.out, HasSubstr("\"segment_count\":1"));
  // One bad file among good ones: the good ones are shown, the exit code is 2.
  CommandResult mixed = RunCli({"inspect", sealed, chart_});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_THAT(mixed.out, HasSubstr("key id:        k1"));
  EXPECT_THAT(mixed.err, HasSubstr("not a sealed file"));
  EXPECT_THAT(mixed.err, Not(HasSubstr("HPI")));
}

TEST_F(SealedCliTest, RotateThenRewrapMovesFilesToTheNewKey) {
  const std::string a = SealChart("a.sealed");
  const std::string b = SealChart("b.sealed");
  const std::string payload_before = ReadFileOrDie(a).substr(kSealedHeaderSize);
  CommandResult rot = RunCli({"keys", "rotate", "--keyring", keyring_});
  ASSERT_EQ(rot.exit_code, 0) << rot.err;
  const std::string k2 = Trimmed(rot.out);
  // New files use the new key; old files still open.
  const std::string c = SealChart("c.sealed");
  EXPECT_THAT(RunCli({"inspect", c}).out, HasSubstr("key id:        " + k2));
  EXPECT_EQ(RunCli({"decrypt", "--keyring", keyring_, a, dir_.File("a.txt")}).exit_code, 0);

  CommandResult rw = RunCli({"rewrap", "--keyring", keyring_, a, b, c});
  ASSERT_EQ(rw.exit_code, 0) << rw.err;
  EXPECT_THAT(rw.err, HasSubstr("a.sealed: key k1 -> " + k2));
  EXPECT_THAT(rw.err, HasSubstr("c.sealed: already uses key " + k2));
  EXPECT_THAT(rw.err, HasSubstr("re-wrapped 2 of 3 files"));
  EXPECT_EQ(ReadFileOrDie(a).substr(kSealedHeaderSize), payload_before);

  // Only the new key is needed now.
  {
    ScopedEnv env("CHARTCODER_KEY", Exported(k2));
    CommandResult d = RunCli({"decrypt", b, dir_.File("b.txt")});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_EQ(ReadFileOrDie(dir_.File("b.txt")), kChart);
  }
  // So the old key can go; the active one cannot.
  EXPECT_EQ(RunCli({"keys", "remove", "--keyring", keyring_, "--id", k2}).exit_code, 2);
  CommandResult rm = RunCli({"keys", "remove", "--keyring", keyring_, "--id", "k1"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_THAT(RunCli({"keys", "list", "--keyring", keyring_}).out, Not(HasSubstr("k1 ")));
  EXPECT_EQ(RunCli({"decrypt", "--keyring", keyring_, a, dir_.File("a2.txt")}).exit_code, 0);
  EXPECT_EQ(RunCli({"keys", "remove", "--keyring", keyring_}).exit_code, 1);
}

TEST_F(SealedCliTest, KeysFromTheEnvironmentAndAFileDescriptor) {
  const std::string spec = Exported("k1");
  EXPECT_THAT(spec, MatchesRegex("k1:[A-Za-z0-9+/]{43}="));
  const std::string sealed = SealChart();
  {
    ScopedEnv env("CHARTCODER_KEY", spec);
    CommandResult r = RunCli({"decrypt", sealed, dir_.File("env.txt")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFileOrDie(dir_.File("env.txt")), kChart);
  }
  {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_EQ(::write(fds[1], spec.data(), spec.size()), static_cast<ssize_t>(spec.size()));
    ::close(fds[1]);
    ScopedEnv env("CHARTCODER_KEY_FD", std::to_string(fds[0]));
    CommandResult r = RunCli({"decrypt", sealed, dir_.File("fd.txt")});
    ::close(fds[0]);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFileOrDie(dir_.File("fd.txt")), kChart);
  }
  {
    ScopedEnv env("CHARTCODER_KEYRING", keyring_);
    CommandResult r = RunCli({"decrypt", sealed, dir_.File("ring.txt")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  {
    ScopedEnv env("CHARTCODER_KEY", "k1:not-base64");
    CommandResult r = RunCli({"decrypt", sealed, dir_.File("bad.txt")});
    EXPECT_EQ(r.exit_code, 2);
    ExpectOneErrorLine(r);
    EXPECT_THAT(r.err, HasSubstr("$CHARTCODER_KEY"));
  }
}

TEST_F(SealedCliTest, PassphraseProtectedKeyring) {
  const std::string ring = dir_.File("protected-keyring");
  WriteFileOrDie(dir_.File("pass"), "a long passphrase\n");
  WriteFileOrDie(dir_.File("wrong"), "not the passphrase\n");
  CommandResult k =
      RunCli({"keygen", "--keyring", ring, "--id", "pk", "--passphrase-file", dir_.File("pass")});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  EXPECT_THAT(k.err, HasSubstr("passphrase-protected"));
  EXPECT_THAT(ReadFileOrDie(ring), HasSubstr("protection scrypt log2n=17 r=8 p=1"));

  CommandResult e = RunCli({"encrypt", "--keyring", ring, "--passphrase-file", dir_.File("pass"),
                            chart_, dir_.File("p.sealed")});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  CommandResult none =
      RunCli({"decrypt", "--keyring", ring, dir_.File("p.sealed"), dir_.File("out.txt")});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("--passphrase-file"));
  CommandResult wrong = RunCli({"decrypt", "--keyring", ring, "--passphrase-file",
                                dir_.File("wrong"), dir_.File("p.sealed"), dir_.File("out.txt")});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("wrong passphrase"));
  EXPECT_NE(::access(dir_.File("out.txt").c_str(), F_OK), 0);

  // Only the first line counts, without its line end.
  WriteFileOrDie(dir_.File("new-pass"), "another passphrase\r\nthis second line is ignored\n");
  WriteFileOrDie(dir_.File("new-pass-bare"), "another passphrase");
  CommandResult pw = RunCli({"keys", "passwd", "--keyring", ring, "--passphrase-file",
                             dir_.File("pass"), "--new-passphrase-file", dir_.File("new-pass")});
  ASSERT_EQ(pw.exit_code, 0) << pw.err;
  CommandResult d =
      RunCli({"decrypt", "--keyring", ring, "--passphrase-file", dir_.File("new-pass-bare"),
              dir_.File("p.sealed"), dir_.File("out.txt")});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(ReadFileOrDie(dir_.File("out.txt")), kChart);
}

TEST_F(SealedCliTest, UsageErrors) {
  EXPECT_EQ(RunCli({"encrypt", "--keyring", keyring_, chart_}).exit_code, 1);
  EXPECT_EQ(
      RunCli({"encrypt", "--keyring", keyring_, "--segment-size", "3", chart_, "x"}).exit_code, 1);
  EXPECT_EQ(RunCli({"keys", "--keyring", keyring_}).exit_code, 1);
  EXPECT_EQ(RunCli({"keys", "frobnicate", "--keyring", keyring_}).exit_code, 1);
  EXPECT_EQ(RunCli({"inspect"}).exit_code, 1);
  EXPECT_EQ(RunCli({"rewrap", "--keyring", keyring_}).exit_code, 1);
  CommandResult help = RunCli({"--help"});
  for (const char* c : {"keygen", "keys", "encrypt", "decrypt", "inspect", "rewrap"}) {
    EXPECT_THAT(help.out, HasSubstr(std::string("  ") + c + " ")) << c;
    EXPECT_EQ(RunCli({"help", c}).exit_code, 0) << c;
  }
}

}  // namespace
}  // namespace chartcoder
