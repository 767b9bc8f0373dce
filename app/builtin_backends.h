#pragma once
// Registers every backend this build has (cpu with OpenBLAS, cuda with CUDA) with core's
// registry (core/backend.h). Front ends call it once at start-up; calling it again is
// harmless.
namespace pipelab {
void register_builtin_backends();
}
