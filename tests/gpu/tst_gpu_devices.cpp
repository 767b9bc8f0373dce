// Lists the CUDA devices and checks what the runtime reports is usable; skips (exit 77)
// with the runtime's reason when there is no device.
#include <cstdio>

#include "gpu/device_info.h"

int main() {
    const pipelab::gpu::DeviceList list = pipelab::gpu::list_devices();
    if (list.devices.empty()) {
        std::printf("SKIP gpu/devices: no CUDA device here (%s); GPU results need the GPU machine\n",
                    list.problem.c_str());
        return 77;
    }
    int failures = 0;
    for (const auto& d : list.devices) {
        std::printf("device %d: %s, sm_%d%d, %d SMs, %.1f GiB\n", d.index, d.name.c_str(), d.sm_major, d.sm_minor,
                    d.multiprocessors, double(d.total_bytes) / (1 << 30));
        if (d.name.empty() || d.multiprocessors <= 0 || d.total_bytes <= 0 || d.sm_major < 7) {
            std::printf("FAIL device %d reports unusable properties\n", d.index);
            ++failures;
        }
    }
    std::printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
