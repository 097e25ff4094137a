// Run-time choice of the kernel build: the best the CPU (and OS) supports, or the one forced by
// the environment variable TAPEGRAD_NATIVE_ISA (baseline | avx2 | avx512), which lets the
// conformance suite run once per build on a machine that has them all.
#pragma once
#include <string>
#include <vector>

#include "kernels.h"

namespace tapegrad {

// The builds this CPU can run, best last ("baseline" always).
std::vector<std::string> supported_isas();

// The table for `name` ("" = the best supported, or TAPEGRAD_NATIVE_ISA when set); nullptr and
// a reason in *error when the name is unknown or the CPU lacks it.
const KernelTable* select_kernels(const std::string& name, std::string* error);

}  // namespace tapegrad
