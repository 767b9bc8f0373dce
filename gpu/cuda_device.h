#pragma once
// The CUDA device of the executor (core/device.h): each pipeline rank gets a GPU and its
// own non-blocking stream, so several ranks on one GPU run concurrently (a one-GPU
// workstation still shows a real pipeline), and nothing here waits for the GPU except
// end_step and the finite check.
//
//   memory    cudaMalloc on the rank's GPU (the executor pools buffers across steps);
//             failure is DeviceOutOfMemory naming rank, GPU, bytes and free bytes
//   messages  same GPU: a device-to-device copy on the sender's stream; other GPU: NCCL
//             send (sender's stream) and receive (a receive stream on the receiver's GPU)
//             issued together in one group, so the pair cannot deadlock (peer copies
//             when built without NCCL). Either way the copy first waits for the work the
//             receiver had queued, because the buffer it fills may come from the
//             receiver's pool and still be read there; the receiver's RECV waits on an
//             event recorded after the copy.
//   timing    an event on the rank's stream at every mark; after the step, times relative
//             to a base event per GPU, the GPUs aligned by the host clock at start_clock
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/device.h"

namespace pipelab::gpu {

struct GpuState;

class CudaDevice final : public Device {
public:
    // gpu_of_rank[r]: the GPU of rank r (see place_ranks). Throws CudaError.
    explicit CudaDevice(std::vector<int> gpu_of_rank);
    ~CudaDevice() override;
    CudaDevice(const CudaDevice&) = delete;
    CudaDevice& operator=(const CudaDevice&) = delete;

    cudaStream_t stream(int rank) const { return m_ranks[static_cast<std::size_t>(rank)].stream; }
    int gpu(int rank) const { return m_ranks[static_cast<std::size_t>(rank)].gpu; }
    // Waits for every rank's queued work and throws CudaError on a failure.
    void synchronize();
    // "NVIDIA H200 #0: 139.8 GiB, 131.2 GiB free at start", one per GPU in use.
    std::vector<std::string> gpu_summaries() const;
    bool uses_nccl() const { return m_nccl; }

    std::string kind() const override { return "cuda"; }
    std::string label(int rank) const override;
    void begin_step(int rank) override;
    void end_step(int rank) override;
    DeviceBuffer allocate(int rank, std::int64_t bytes) override;
    void release(int rank, DeviceBuffer buffer) override;
    std::uint64_t copy_to_rank(int src, int dst, const DeviceBuffer& from, const DeviceBuffer& to,
                               std::uint64_t to_free_after) override;
    void wait_for_copy(int dst, std::uint64_t ticket) override;
    void start_clock() override;
    std::uint64_t mark(int rank) override;
    std::vector<double> mark_times_us(int rank) override;
    bool all_finite(int rank, const float* data, std::int64_t n) override;

private:
    struct Rank {
        int gpu = 0;
        std::size_t slot = 0;  // index of its GPU in m_gpus
        cudaStream_t stream = nullptr;
        std::vector<cudaEvent_t> marks;  // reused across steps; n_marks used this step
        std::size_t n_marks = 0;
        int* flag = nullptr;       // device, the finite check's answer
        int* flag_host = nullptr;  // pinned
    };
    GpuState& gpu_of(int rank) { return *m_gpus[m_ranks[static_cast<std::size_t>(rank)].slot]; }
    // An event on GPU g's pool for this step (no timing), and its ticket.
    std::uint64_t pool_event(std::size_t slot, cudaEvent_t& ev);
    void release_all() noexcept;

    std::vector<Rank> m_ranks;
    std::vector<GpuState*> m_gpus;  // owned
    bool m_nccl = false;
    std::mutex m_nccl_mu;  // a communicator is used by one thread at a time
};

}  // namespace pipelab::gpu
