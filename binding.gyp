{
  # The native backend, built by `npm install` (scripts/build-native.mjs runs node-gyp; a failed
  # build is a one-line warning and tapegrad falls back to wasm/js). Baseline x86-64 flags only:
  # the AVX2 and AVX-512 kernel builds carry their own target pragmas and are chosen at run time.
  # -ffp-contract=off: no fused multiply-add unless a kernel asks for one, so forward values are
  # the js reference's bits. -fno-math-errno: lets sqrt vectorise (errno is never read).
  "targets": [
    {
      "target_name": "tapegrad",
      "sources": [
        "native/binding/addon.cpp",
        "native/binding/optim.cpp",
        "native/core/program.cpp",
        "native/core/thread-pool.cpp",
        "native/core/dispatch.cpp",
        "native/core/isa_baseline.cpp",
        "native/core/isa_avx2.cpp",
        "native/core/isa_avx512.cpp"
      ],
      # node-addon-api by its include directory, with its C++-exceptions settings (its except.gypi)
      # written out here: a gyp dependency on its targets makes node-gyp write their makefiles
      # beside this package (a stray node-addon-api/ folder in an installed tapegrad)
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O1", "-O0"],
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } },
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno"]
      }
    }
  ]
}
