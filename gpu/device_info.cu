#include "gpu/device_info.h"

#include <cuda_runtime.h>

namespace pipelab::gpu {

DeviceList list_devices() {
    DeviceList out;
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        out.problem = cudaGetErrorString(err);
        cudaGetLastError();  // clear the sticky error so later calls start clean
        return out;
    }
    for (int i = 0; i < n; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        out.devices.push_back({i, prop.name, prop.major, prop.minor, prop.multiProcessorCount,
                               static_cast<std::int64_t>(prop.totalGlobalMem)});
    }
    if (out.devices.empty()) out.problem = "no CUDA device reported";
    return out;
}

}  // namespace pipelab::gpu
