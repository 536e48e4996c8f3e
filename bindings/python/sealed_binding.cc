// Keys, keyrings and sealed files: _chartcoder.KeyProvider, Keyring,
// OutputFile, seal/unseal of bytes and files, reading charts.
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>

#include "bindings/python/binding.h"
#include "chartcoder/chart_io.h"
#include "chartcoder/keys.h"
#include "chartcoder/sealed.h"
#include "src/internal/crypto.h"
#include "src/internal/strings.h"

namespace chartcoder::python {
namespace {

using internal::StrCat;

// A passphrase argument (None, str, bytes or bytearray) copied into
// `options`; the caller wipes it (ScopedCleanse) when done.
void SetPassphrase(const py::object& passphrase, KeyringOptions* options) {
  if (passphrase.is_none()) return;
  if (PyByteArray_Check(passphrase.ptr())) {
    options->passphrase.assign(PyByteArray_AS_STRING(passphrase.ptr()),
                               static_cast<size_t>(PyByteArray_GET_SIZE(passphrase.ptr())));
  } else {
    options->passphrase.assign(ViewText(passphrase, "passphrase").bytes);
  }
  if (options->passphrase.empty()) {
    Raise(absl::InvalidArgumentError("the passphrase is empty (give None for no passphrase)"));
  }
}

py::bytes Bytes(std::string_view s) { return py::bytes(s.data(), s.size()); }

// A Keyring shared with Python (its base KeyProvider is what functions take).
std::shared_ptr<Keyring> OpenKeyring(const py::object& path_arg, const py::object& passphrase) {
  const std::string path = FsPath(path_arg);
  KeyringOptions o;
  internal::ScopedCleanse wipe(&o.passphrase);
  SetPassphrase(passphrase, &o);
  absl::StatusOr<std::unique_ptr<Keyring>> ring;
  {
    py::gil_scoped_release release;
    ring = Keyring::Open(path, o);
  }
  return Unwrap(std::move(ring));
}

py::object FileConversionToPy(const FileConversion& c) {
  return py::make_tuple(c.plaintext_bytes, c.output_bytes, c.key_id);
}

// An OutputFile for Python: write, then commit (or discard), usable as a
// context manager. The keys stay alive as long as the file.
class PyOutputFile {
 public:
  PyOutputFile(const py::object& path, std::shared_ptr<KeyProvider> keys, bool seal,
               const std::string& key_id, uint32_t segment_size, uint32_t mode)
      : keys_(std::move(keys)) {
    OutputOptions o;
    o.seal = seal;
    o.keys = keys_.get();
    o.key_id = key_id;
    o.segment_size = segment_size;
    o.mode = mode;
    file_ = Unwrap(OutputFile::Create(FsPath(path), o));
  }

  void Write(py::handle data) {
    const TextArg bytes = ViewText(data, "data");
    OutputFile* file = Open();  // raises: before the GIL is released
    absl::Status s;
    {
      py::gil_scoped_release release;
      s = file->Append(bytes.bytes);
    }
    Check(s);
  }

  void Commit() {
    OutputFile* file = Open();
    absl::Status s;
    {
      py::gil_scoped_release release;
      s = file->Commit();
    }
    committed_ = s.ok();
    Check(s);
  }

  // Drops an uncommitted file: nothing appears at the path.
  void Discard() {
    if (!committed_) file_.reset();
  }

  OutputFile* Open() const {
    if (!file_) Raise(absl::FailedPreconditionError("the output file was discarded"));
    return file_.get();
  }
  bool committed() const { return committed_; }

 private:
  std::shared_ptr<KeyProvider> keys_;
  std::unique_ptr<OutputFile> file_;
  bool committed_ = false;
};

}  // namespace

void RegisterSealed(py::module_& m) {
  py::class_<KeyProvider, std::shared_ptr<KeyProvider>>(
      m, "KeyProvider",
      "Key-encryption keys for sealed files (a Keyring, key specs, or the environment).\n"
      "Immutable; thread-safe. Never exposes key material.")
      .def_property_readonly("active_key_id",
                             [](const KeyProvider& k) { return Unwrap(k.ActiveKeyId()); })
      .def("describe", &KeyProvider::Describe, "Where the keys come from, for messages.")
      .def("__repr__", [](const KeyProvider& k) {
        return StrCat("<chartcoder.KeyProvider ", k.Describe(), ">");
      });

  py::class_<Keyring, KeyProvider, std::shared_ptr<Keyring>>(
      m, "Keyring",
      "A keyring file: keys with ids, one active key for new files. The file must be\n"
      "private to its owner; it may be protected by a passphrase.")
      .def(py::init(&OpenKeyring), py::arg("path"), py::arg("passphrase") = py::none(),
           "Opens a keyring. NotFoundError: no such file. FailedPreconditionError: readable by\n"
           "others, or protected and no passphrase. DataLossError: malformed or wrong passphrase.")
      .def_static(
          "create",
          [](const py::object& path_arg, const py::object& passphrase,
             const std::optional<std::string>& key_id, int scrypt_log2_n) {
            const std::string path = FsPath(path_arg);
            KeyringOptions o;
            internal::ScopedCleanse wipe(&o.passphrase);
            SetPassphrase(passphrase, &o);
            o.scrypt_log2_n = scrypt_log2_n;
            AddKeyOptions key;
            key.id = key_id.value_or("");
            absl::StatusOr<std::unique_ptr<Keyring>> ring;
            {
              py::gil_scoped_release release;
              ring = Keyring::Create(path, o, key);
            }
            return std::shared_ptr<Keyring>(Unwrap(std::move(ring)));
          },
          py::arg("path"), py::arg("passphrase") = py::none(), py::arg("key_id") = py::none(),
          py::arg("scrypt_log2_n") = 17,
          "Creates a keyring (mode 0600) with one new active key and opens it.\n"
          "FailedPreconditionError if the file exists.")
      .def_static(
          "rotate",
          [](const py::object& path_arg, const py::object& passphrase) {
            const std::string path = FsPath(path_arg);
            KeyringOptions o;
            internal::ScopedCleanse wipe(&o.passphrase);
            SetPassphrase(passphrase, &o);
            absl::StatusOr<std::string> id;
            {
              py::gil_scoped_release release;
              id = Keyring::Rotate(path, o);
            }
            return Unwrap(std::move(id));
          },
          py::arg("path"), py::arg("passphrase") = py::none(),
          "Adds a new key to the keyring file and makes it active; returns its id. Older\n"
          "keys stay to open older files. Reopen the Keyring to use the new key.")
      .def("keys",
           [](const Keyring& k) {
             py::list out;
             for (const KeyInfo& i : k.List()) {
               out.append(T().key_info(i.id, i.created, i.active));
             }
             return out;
           },
           "The keys (ids, creation times, which is active), in file order; never key material.")
      .def_property_readonly("path", &Keyring::path)
      .def_property_readonly("is_protected", &Keyring::is_protected);

  m.def("keys_from_spec",
        [](const py::object& spec) -> std::shared_ptr<KeyProvider> {
          std::string s(ViewText(spec, "spec").bytes);
          internal::ScopedCleanse wipe(&s);
          return Unwrap(InMemoryKeyProvider::Parse(s, "key spec"));
        },
        py::arg("spec"),
        "Keys from specs \"ID:BASE64KEY\" (separated by commas, spaces or newlines; the\n"
        "first is active), as $CHARTCODER_KEY takes them. InvalidArgumentError if malformed.");
  m.def("keys_from_environment",
        []() -> std::shared_ptr<KeyProvider> {
          return Unwrap(KeyProviderFromEnvironment());
        },
        "Keys from $CHARTCODER_KEY_FD or $CHARTCODER_KEY, or None when neither is set.");

  m.def("seal",
        [](const py::object& data, const KeyProvider& keys, const std::string& key_id,
           uint32_t segment_size) {
          const TextArg in = ViewText(data, "data");
          SealedWriterOptions o;
          o.key_id = key_id;
          o.segment_size = segment_size;
          absl::StatusOr<std::string> sealed;
          {
            py::gil_scoped_release release;
            sealed = SealBytes(in.bytes, keys, o);
          }
          return Bytes(Unwrap(std::move(sealed)));
        },
        py::arg("data"), py::arg("keys"), py::arg("key_id") = "",
        py::arg("segment_size") = kDefaultSegmentSize);
  m.def("unseal",
        [](const py::bytes& data, const KeyProvider& keys, std::optional<size_t> max_bytes) {
          const std::string_view in(PyBytes_AS_STRING(data.ptr()),
                                    static_cast<size_t>(PyBytes_GET_SIZE(data.ptr())));
          absl::StatusOr<std::string> plain;
          {
            py::gil_scoped_release release;
            plain = UnsealBytes(in, keys, max_bytes.value_or(SIZE_MAX));
          }
          std::string text = Unwrap(std::move(plain));
          internal::ScopedCleanse wipe(&text);
          return Bytes(text);
        },
        py::arg("data"), py::arg("keys"), py::arg("max_bytes") = py::none());
  m.def("looks_sealed",
        [](const py::bytes& data) {
          return LooksSealed(std::string_view(PyBytes_AS_STRING(data.ptr()),
                                              static_cast<size_t>(PyBytes_GET_SIZE(data.ptr()))));
        },
        py::arg("data"));
  m.def("inspect_sealed",
        [](const py::object& path) {
          const SealedFileInfo i = Unwrap(InspectSealedFile(FsPath(path)));
          return T().sealed_file_info(i.header.format_version, i.header.key_id,
                                      i.header.segment_size, i.file_size, i.size_consistent,
                                      i.segment_count, i.plaintext_size);
        },
        py::arg("path"));
  m.def("seal_file",
        [](const py::object& src_arg, const py::object& dst_arg, std::shared_ptr<KeyProvider> keys,
           const std::string& key_id, uint32_t segment_size, uint32_t mode) {
          const std::string src = FsPath(src_arg), dst = FsPath(dst_arg);
          OutputOptions o;
          o.seal = true;
          o.keys = keys.get();
          o.key_id = key_id;
          o.segment_size = segment_size;
          o.mode = mode;
          absl::StatusOr<FileConversion> c;
          {
            py::gil_scoped_release release;
            c = SealFile(src, dst, o);
          }
          return FileConversionToPy(Unwrap(std::move(c)));
        },
        py::arg("src"), py::arg("dst"), py::arg("keys"), py::arg("key_id") = "",
        py::arg("segment_size") = kDefaultSegmentSize, py::arg("mode") = 0600);
  m.def("unseal_file",
        [](const py::object& src_arg, const py::object& dst_arg, const KeyProvider& keys) {
          const std::string src = FsPath(src_arg), dst = FsPath(dst_arg);
          absl::StatusOr<FileConversion> c;
          {
            py::gil_scoped_release release;
            c = UnsealFile(src, dst, keys);
          }
          return FileConversionToPy(Unwrap(std::move(c)));
        },
        py::arg("src"), py::arg("dst"), py::arg("keys"));
  m.def("read_chart_bytes",
        [](const py::object& path_arg, const KeyProvider* keys, size_t max_bytes,
           bool allow_empty) {
          const std::string path = FsPath(path_arg);
          ChartReadOptions o;
          o.keys = keys;
          o.max_bytes = max_bytes;
          o.allow_empty = allow_empty;
          absl::StatusOr<std::string> chart;
          {
            py::gil_scoped_release release;
            chart = ReadChartFile(path, o);
          }
          std::string text = Unwrap(std::move(chart));
          internal::ScopedCleanse wipe(&text);
          return Bytes(text);
        },
        py::arg("path"), py::arg("keys") = nullptr, py::arg("max_bytes") = kDefaultMaxChartBytes,
        py::arg("allow_empty") = false);

  py::class_<PyOutputFile>(m, "OutputFile")
      .def(py::init<const py::object&, std::shared_ptr<KeyProvider>, bool, const std::string&,
                    uint32_t, uint32_t>(),
           py::arg("path"), py::arg("keys") = nullptr, py::arg("seal") = false,
           py::arg("key_id") = "", py::arg("segment_size") = kDefaultSegmentSize,
           py::arg("mode") = 0600)
      .def("write", &PyOutputFile::Write, py::arg("data"))
      .def("commit", &PyOutputFile::Commit)
      .def("discard", &PyOutputFile::Discard)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](PyOutputFile& f, const py::object& type, const py::object&, const py::object&) {
             if (type.is_none() && !f.committed()) {
               f.Commit();
             } else {
               f.Discard();
             }
             return false;
           })
      .def_property_readonly("committed", &PyOutputFile::committed)
      .def_property_readonly("path", [](const PyOutputFile& f) { return f.Open()->path(); })
      .def_property_readonly("sealed", [](const PyOutputFile& f) { return f.Open()->sealed(); })
      .def_property_readonly("key_id", [](const PyOutputFile& f) { return f.Open()->key_id(); })
      .def_property_readonly("bytes_written",
                             [](const PyOutputFile& f) { return f.Open()->bytes_written(); });
}

}  // namespace chartcoder::python
