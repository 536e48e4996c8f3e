#include "src/internal/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "src/internal/crypto.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

// A random name for the hidden file next to `path`: ".<base>.<hex>.tmp".
absl::StatusOr<std::string> HiddenName(const std::string& path) {
  uint8_t r[8];
  if (absl::Status s = RandomBytes(absl::MakeSpan(r)); !s.ok()) return s;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : r) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return internal::StrCat(dir, ".", base, ".", hex, ".tmp");
}

absl::Status SyncDirectory(const std::string& path) {
  int dfd = ::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus(errno, DirName(path), "cannot open directory");
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  // Some file systems do not support fsync on directories; the rename stands.
  if (rc != 0 && err != EINVAL && err != EROFS) {
    return ErrnoStatus(err, DirName(path), "cannot flush directory");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoStatus(int err, std::string_view subject, std::string_view what) {
  std::string message = internal::StrCat(subject, ": ", what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(message);
    case EACCES:
    case EPERM:
    case EROFS:
    case EISDIR:
    case EEXIST:
      return absl::FailedPreconditionError(message);
    case EIO:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<size_t> ReadFull(int fd, char* buf, size_t n, std::string_view subject) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, buf + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, subject, "read failed");
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

absl::Status WriteFull(int fd, std::string_view data, std::string_view subject) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, subject, "write failed");
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::StatusOr<AtomicFile> AtomicFile::Create(const std::string& path, mode_t mode,
                                              Staging staging) {
  if (path.empty()) return absl::InvalidArgumentError("empty output path");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(internal::StrCat(path, ": is a directory"));
  }
  AtomicFile f;
  f.path_ = path;
  f.mode_ = mode;
  // A device, pipe or socket ("/dev/null", "/dev/stdout", a FIFO) is written
  // directly: renaming a staged file over it would replace the device with a
  // regular file.
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    f.fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (f.fd_ < 0) return ErrnoStatus(errno, path, "cannot open output");
    f.direct_ = true;
    return f;
  }
  // An unnamed file needs /proc to be given a name at commit time.
  if (staging == Staging::kUnnamedIfPossible && ::access("/proc/self/fd", X_OK) == 0) {
    f.fd_ = ::open(DirName(path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  }
  if (f.fd_ < 0) {
    for (int attempt = 0; attempt < 8 && f.fd_ < 0; ++attempt) {
      absl::StatusOr<std::string> name = HiddenName(path);
      if (!name.ok()) return name.status();
      f.fd_ = ::open(name->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
      if (f.fd_ >= 0) {
        f.temp_path_ = *std::move(name);
      } else if (errno != EEXIST) {
        return ErrnoStatus(errno, path, "cannot create output");
      }
    }
    if (f.fd_ < 0) return ErrnoStatus(EEXIST, path, "cannot create output");
  }
  if (::fchmod(f.fd_, mode) != 0) return ErrnoStatus(errno, path, "cannot set permissions");
  return f;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(other.fd_),
      mode_(other.mode_),
      direct_(other.direct_) {
  other.fd_ = -1;
  other.temp_path_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Discard();
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    fd_ = other.fd_;
    mode_ = other.mode_;
    direct_ = other.direct_;
    other.fd_ = -1;
    other.temp_path_.clear();
  }
  return *this;
}

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

absl::Status AtomicFile::Commit(bool replace) {
  if (fd_ < 0) return absl::FailedPreconditionError(internal::StrCat(path_, ": already closed"));
  if (direct_) {
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus(errno, path_, "cannot close output");
    return absl::OkStatus();
  }
  if (::fsync(fd_) != 0) {
    absl::Status s = ErrnoStatus(errno, path_, "cannot flush output");
    Discard();
    return s;
  }
  if (temp_path_.empty()) {
    // Give the unnamed file a hidden name, then rename that over the target
    // (linkat cannot replace an existing file).
    std::string proc = internal::StrCat("/proc/self/fd/", fd_);
    for (int attempt = 0; attempt < 8 && temp_path_.empty(); ++attempt) {
      absl::StatusOr<std::string> name = HiddenName(path_);
      if (!name.ok()) {
        Discard();
        return name.status();
      }
      if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, name->c_str(), AT_SYMLINK_FOLLOW) == 0) {
        temp_path_ = *std::move(name);
      } else if (errno != EEXIST) {
        absl::Status s = ErrnoStatus(errno, path_, "cannot name output");
        Discard();
        return s;
      }
    }
    if (temp_path_.empty()) {
      Discard();
      return ErrnoStatus(EEXIST, path_, "cannot name output");
    }
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    absl::Status s = ErrnoStatus(errno, path_, "cannot close output");
    Discard();
    return s;
  }
  fd_ = -1;
  if (replace) {
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      absl::Status s = ErrnoStatus(errno, path_, "cannot rename output into place");
      Discard();
      return s;
    }
  } else {
    // link() fails if the name exists, so an existing file is never replaced.
    if (::link(temp_path_.c_str(), path_.c_str()) != 0) {
      absl::Status s =
          errno == EEXIST
              ? absl::FailedPreconditionError(internal::StrCat(path_, ": already exists"))
              : ErrnoStatus(errno, path_, "cannot link output into place");
      Discard();
      return s;
    }
    ::unlink(temp_path_.c_str());
  }
  temp_path_.clear();
  return SyncDirectory(path_);
}

}  // namespace chartcoder::internal
