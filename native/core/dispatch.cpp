#include "dispatch.h"

#include <cstdlib>

namespace tapegrad {

std::vector<std::string> supported_isas() {
  std::vector<std::string> out{"baseline"};
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // libgcc's checks include the OS (XCR0) enabling the wider registers
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) out.push_back("avx2");
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && out.size() == 2)
    out.push_back("avx512");
#endif
  return out;
}

const KernelTable* select_kernels(const std::string& requested, std::string* error) {
  std::string name = requested;
  if (name.empty()) {
    const char* env = std::getenv("TAPEGRAD_NATIVE_ISA");
    if (env && *env) name = env;
  }
  const std::vector<std::string> ok = supported_isas();
  if (name.empty()) name = ok.back();
  if (name != "baseline" && name != "avx2" && name != "avx512") {
    *error = "unknown instruction set '" + name + "' (expected baseline, avx2 or avx512)";
    return nullptr;
  }
  bool supported = false;
  for (const auto& s : ok) supported = supported || s == name;
  if (!supported) {
    *error = "this CPU cannot run the " + name + " kernels";
    return nullptr;
  }
  if (name == "avx512") return &avx512_table();
  if (name == "avx2") return &avx2_table();
  return &baseline_table();
}

}  // namespace tapegrad
