#pragma once
// The CUDA devices this process can use. Plain C++ header: callers need no CUDA headers.
#include <cstdint>
#include <string>
#include <vector>

namespace pipelab::gpu {

struct DeviceInfo {
    int index = 0;
    std::string name;                // "NVIDIA H100 80GB HBM3"
    int sm_major = 0, sm_minor = 0;  // compute capability
    int multiprocessors = 0;
    std::int64_t total_bytes = 0;
};

struct DeviceList {
    std::vector<DeviceInfo> devices;
    std::string problem;  // why there are none ("no CUDA-capable device is detected"), or ""
};

DeviceList list_devices();

}  // namespace pipelab::gpu
