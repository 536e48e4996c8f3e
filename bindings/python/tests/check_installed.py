"""Run by install_and_import.cmake: imports chartcoder from an installed
prefix and checks that everything it loads comes from that prefix."""
import os
import sys

prefix, package_dir = (os.path.realpath(p) for p in sys.argv[1:3])
sys.path.insert(0, package_dir)

import chartcoder  # noqa: E402


def fail(message):
    print(f"check_installed: {message}", file=sys.stderr)
    sys.exit(1)


if not os.path.realpath(chartcoder.__file__).startswith(package_dir + os.sep):
    fail(f"imported {chartcoder.__file__}, not the installed package")
for name in ("_chartcoder.pyi", "py.typed", "_types.py"):
    if not os.path.exists(os.path.join(package_dir, "chartcoder", name)):
        fail(f"{name} is not installed")
with open("/proc/self/maps") as maps:
    libs = {line.split()[-1] for line in maps if "libchartcoder.so" in line}
if not libs or not all(os.path.realpath(lib).startswith(prefix + os.sep) for lib in libs):
    fail(f"libchartcoder loaded from {sorted(libs)}, not from {prefix}")
pack = chartcoder.default_data_pack_path()
if not os.path.realpath(pack).startswith(prefix + os.sep):
    fail(f"the data pack {pack} is not the installed one")
result = chartcoder.Pipeline().code("ASSESSMENT: Type 2 diabetes mellitus with CKD stage 4.",
                                    {"age": 72, "sex": "F"})
codes = [c.code for c in result.codes]
if "E11.22" not in codes or result.raf is None:
    fail(f"unexpected codes {codes}")
print(f"check_installed: chartcoder {chartcoder.__version__} from {package_dir}, "
      f"pack {pack}: {codes}")
