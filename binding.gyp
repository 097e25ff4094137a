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
        "native/core/dispatch.cpp",
        "native/core/isa_baseline.cpp",
        "native/core/isa_avx2.cpp",
        "native/core/isa_avx512.cpp"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-O2", "-O1", "-O0"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno"]
      }
    }
  ]
}
