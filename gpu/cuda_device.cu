#include "gpu/cuda_device.h"

#include <cstdint>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "gpu/cuda_check.h"
#include "gpu/cuda_plan.h"
#include "gpu/kernels/launch.h"

#if PIPELAB_HAVE_NCCL
#include <nccl.h>
#define PIPELAB_NCCL_CHECK(call)                                                                          \
    do {                                                                                                  \
        const ncclResult_t pipelab_r_ = (call);                                                           \
        if (pipelab_r_ != ncclSuccess)                                                                    \
            throw ::pipelab::gpu::CudaError(std::string("NCCL error ") + ncclGetErrorString(pipelab_r_) + \
                                            " in " #call " at " __FILE__ ":" + std::to_string(__LINE__)); \
    } while (0)
#endif

namespace pipelab::gpu {

using Clock = std::chrono::steady_clock;

struct GpuState {
    int index = 0;
    std::string name;
    std::int64_t total = 0, free_at_start = 0;
    cudaStream_t aux = nullptr;       // base events, NCCL receives
    cudaEvent_t base = nullptr;       // time zero of this GPU, recorded at start_clock
    double offset_us = 0;             // base's time on the host clock, relative to GPU 0's
    std::mutex mu;                    // guards events/next
    std::vector<cudaEvent_t> events;  // copy tickets and receiver marks, reused each step
    std::size_t next = 0;
#if PIPELAB_HAVE_NCCL
    ncclComm_t comm = nullptr;
    int comm_rank = 0;
#endif
};

namespace {
constexpr int kTicketShift = 40;  // ticket = (GPU slot << 40) | event index
}

CudaDevice::CudaDevice(std::vector<int> gpu_of_rank) {
    std::vector<int> used = gpu_of_rank;
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
    try {
        for (int g : used) {
            auto* st = new GpuState;
            m_gpus.push_back(st);
            st->index = g;
            const DeviceGuard guard(g);
            cudaDeviceProp prop{};
            PIPELAB_CUDA_CHECK(cudaGetDeviceProperties(&prop, g));
            st->name = prop.name;
            std::size_t free = 0, total = 0;
            PIPELAB_CUDA_CHECK(cudaMemGetInfo(&free, &total));
            st->total = static_cast<std::int64_t>(total);
            st->free_at_start = static_cast<std::int64_t>(free);
            PIPELAB_CUDA_CHECK(cudaStreamCreateWithFlags(&st->aux, cudaStreamNonBlocking));
            PIPELAB_CUDA_CHECK(cudaEventCreate(&st->base));
        }
        for (std::size_t r = 0; r < gpu_of_rank.size(); ++r) {
            Rank rk;
            rk.gpu = gpu_of_rank[r];
            rk.slot = static_cast<std::size_t>(std::find(used.begin(), used.end(), rk.gpu) - used.begin());
            const DeviceGuard guard(rk.gpu);
            PIPELAB_CUDA_CHECK(cudaStreamCreateWithFlags(&rk.stream, cudaStreamNonBlocking));
            m_ranks.push_back(rk);
        }
#if PIPELAB_HAVE_NCCL
        if (used.size() > 1) {
            std::vector<ncclComm_t> comms(used.size());
            PIPELAB_NCCL_CHECK(ncclCommInitAll(comms.data(), static_cast<int>(used.size()), used.data()));
            for (std::size_t i = 0; i < used.size(); ++i) {
                m_gpus[i]->comm = comms[i];
                m_gpus[i]->comm_rank = static_cast<int>(i);
            }
            m_nccl = true;
        }
#endif
    } catch (...) {
        release_all();  // the destructor does not run for a half-built device
        throw;
    }
}

CudaDevice::~CudaDevice() { release_all(); }

// Never throws: the context may already be unusable after a fault.
void CudaDevice::release_all() noexcept {
    for (Rank& r : m_ranks) {
        cudaSetDevice(r.gpu);
        if (r.stream) cudaStreamSynchronize(r.stream);
        for (cudaEvent_t e : r.marks) cudaEventDestroy(e);
        if (r.flag) cudaFree(r.flag);
        if (r.flag_host) cudaFreeHost(r.flag_host);
        if (r.stream) cudaStreamDestroy(r.stream);
    }
    m_ranks.clear();
    for (GpuState* g : m_gpus) {
        cudaSetDevice(g->index);
#if PIPELAB_HAVE_NCCL
        if (g->comm) ncclCommDestroy(g->comm);
#endif
        for (cudaEvent_t e : g->events) cudaEventDestroy(e);
        if (g->base) cudaEventDestroy(g->base);
        if (g->aux) cudaStreamDestroy(g->aux);
        delete g;
    }
    m_gpus.clear();
    cudaGetLastError();
}

std::vector<std::string> CudaDevice::gpu_summaries() const {
    std::vector<std::string> out;
    for (const GpuState* g : m_gpus)
        out.push_back(g->name + " #" + std::to_string(g->index) + ": " + gib(g->total) + ", " + gib(g->free_at_start) +
                      " free at start");
    return out;
}

std::string CudaDevice::label(int rank) const {
    const GpuState& g = *m_gpus[m_ranks[static_cast<std::size_t>(rank)].slot];
    return g.name + " #" + std::to_string(g.index) + " (" + gib(g.total) + ", " + gib(g.free_at_start) + " free)";
}

void CudaDevice::begin_step(int rank) { PIPELAB_CUDA_CHECK(cudaSetDevice(gpu(rank))); }

void CudaDevice::end_step(int rank) { PIPELAB_CUDA_CHECK(cudaStreamSynchronize(stream(rank))); }

void CudaDevice::synchronize() {
    for (const Rank& r : m_ranks) {
        const DeviceGuard guard(r.gpu);
        PIPELAB_CUDA_CHECK(cudaStreamSynchronize(r.stream));
    }
}

// May run on another rank's thread (a sender takes the receiver's buffer): the guard
// allocates on the rank's own GPU.
DeviceBuffer CudaDevice::allocate(int rank, std::int64_t bytes) {
    const DeviceGuard guard(gpu(rank));
    void* p = nullptr;
    const std::int64_t n = std::max<std::int64_t>(bytes, 256);
    const cudaError_t e = cudaMalloc(&p, static_cast<std::size_t>(n));
    if (e != cudaSuccess) {
        cudaGetLastError();  // out of memory is not sticky: clear it
        std::size_t free = 0, total = 0;
        cudaMemGetInfo(&free, &total);
        throw DeviceOutOfMemory(
            "rank " + std::to_string(rank) + " on GPU " + std::to_string(gpu(rank)) + ": cannot allocate " + gib(n) +
            " (" + cudaGetErrorString(e) + "); " + gib(static_cast<std::int64_t>(free)) + " free of " +
            gib(static_cast<std::int64_t>(total)) + "; use more stages or GPUs, a smaller microbatch_size or 1f1b");
    }
    return {p, bytes};
}

void CudaDevice::release(int rank, DeviceBuffer buffer) {
    if (!buffer) return;
    int prev = -1;
    cudaGetDevice(&prev);
    cudaSetDevice(gpu(rank));
    cudaFree(buffer.data);  // at teardown: an error here must not throw out of a destructor
    cudaGetLastError();
    if (prev >= 0) cudaSetDevice(prev);
}

std::uint64_t CudaDevice::pool_event(std::size_t slot, cudaEvent_t& ev) {
    GpuState& g = *m_gpus[slot];
    std::lock_guard lk(g.mu);
    if (g.next == g.events.size()) {
        const DeviceGuard guard(g.index);
        cudaEvent_t e = nullptr;
        PIPELAB_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
        g.events.push_back(e);
    }
    ev = g.events[g.next];
    return (static_cast<std::uint64_t>(slot) << kTicketShift) | g.next++;
}

std::uint64_t CudaDevice::copy_to_rank(int src, int dst, const DeviceBuffer& from, const DeviceBuffer& to,
                                       std::uint64_t to_free_after) {
    const Rank& s = m_ranks[static_cast<std::size_t>(src)];
    const Rank& d = m_ranks[static_cast<std::size_t>(dst)];
    const auto bytes = static_cast<std::size_t>(from.bytes);
    if (to.bytes < from.bytes) throw std::logic_error("copy_to_rank: receiving buffer too small");
    // `to` may be a buffer the receiver used before and gave back to its pool: the write
    // waits for the receiver's mark after its last use of it (one of its timing events),
    // not for everything the receiver has queued, so ranks on one GPU keep overlapping.
    const auto receiver_done = reinterpret_cast<cudaEvent_t>(static_cast<std::uintptr_t>(to_free_after));
    cudaEvent_t done = nullptr;
    if (s.gpu == d.gpu) {
        const std::uint64_t ticket = pool_event(s.slot, done);
        if (receiver_done != nullptr) PIPELAB_CUDA_CHECK(cudaStreamWaitEvent(s.stream, receiver_done, 0));
        PIPELAB_CUDA_CHECK(cudaMemcpyAsync(to.data, from.data, bytes, cudaMemcpyDeviceToDevice, s.stream));
        PIPELAB_CUDA_CHECK(cudaEventRecord(done, s.stream));
        return ticket;
    }
#if PIPELAB_HAVE_NCCL
    if (m_nccl) {
        GpuState& gs = *m_gpus[s.slot];
        GpuState& gd = *m_gpus[d.slot];
        const std::uint64_t ticket = pool_event(d.slot, done);
        if (receiver_done != nullptr) {
            const DeviceGuard guard(d.gpu);
            PIPELAB_CUDA_CHECK(cudaStreamWaitEvent(gd.aux, receiver_done, 0));
        }
        {
            // Send and receive in one group: NCCL launches both or neither, so a send can
            // never wait for a receive that is not yet issued.
            std::lock_guard lk(m_nccl_mu);
            PIPELAB_NCCL_CHECK(ncclGroupStart());
            PIPELAB_NCCL_CHECK(ncclSend(from.data, bytes, ncclInt8, gd.comm_rank, gs.comm, s.stream));
            PIPELAB_NCCL_CHECK(ncclRecv(to.data, bytes, ncclInt8, gs.comm_rank, gd.comm, gd.aux));
            PIPELAB_NCCL_CHECK(ncclGroupEnd());
        }
        const DeviceGuard guard(d.gpu);
        PIPELAB_CUDA_CHECK(cudaEventRecord(done, gd.aux));
        return ticket;
    }
#endif
    const std::uint64_t ticket = pool_event(s.slot, done);
    if (receiver_done != nullptr) PIPELAB_CUDA_CHECK(cudaStreamWaitEvent(s.stream, receiver_done, 0));
    PIPELAB_CUDA_CHECK(cudaMemcpyPeerAsync(to.data, d.gpu, from.data, s.gpu, bytes, s.stream));
    PIPELAB_CUDA_CHECK(cudaEventRecord(done, s.stream));
    return ticket;
}

void CudaDevice::wait_for_copy(int dst, std::uint64_t ticket) {
    const std::size_t slot = static_cast<std::size_t>(ticket >> kTicketShift);
    const std::size_t index = static_cast<std::size_t>(ticket & ((std::uint64_t{1} << kTicketShift) - 1));
    GpuState& g = *m_gpus.at(slot);
    cudaEvent_t ev = nullptr;
    {
        std::lock_guard lk(g.mu);
        ev = g.events.at(index);
    }
    PIPELAB_CUDA_CHECK(cudaStreamWaitEvent(stream(dst), ev, 0));
}

// Called while no worker runs and every stream is idle: the base events complete at once,
// so the host time taken right after each record places every GPU's zero on one clock.
void CudaDevice::start_clock() {
    Clock::time_point first{};
    for (std::size_t i = 0; i < m_gpus.size(); ++i) {
        GpuState& g = *m_gpus[i];
        const DeviceGuard guard(g.index);
        PIPELAB_CUDA_CHECK(cudaEventRecord(g.base, g.aux));
        const Clock::time_point now = Clock::now();
        if (i == 0) first = now;
        g.offset_us = std::chrono::duration<double, std::micro>(now - first).count();
        std::lock_guard lk(g.mu);
        g.next = 0;
    }
    for (GpuState* g : m_gpus) {
        const DeviceGuard guard(g->index);
        PIPELAB_CUDA_CHECK(cudaEventSynchronize(g->base));
    }
    for (Rank& r : m_ranks) r.n_marks = 0;
}

// On the rank's thread, whose current device is the rank's GPU (begin_step). The event is
// also the fence token: it is recorded once per step, so waiting on it later in the step
// waits for exactly the work queued before this mark.
std::uint64_t CudaDevice::mark(int rank) {
    Rank& r = m_ranks[static_cast<std::size_t>(rank)];
    if (r.n_marks == r.marks.size()) {
        cudaEvent_t e = nullptr;
        PIPELAB_CUDA_CHECK(cudaEventCreate(&e));
        r.marks.push_back(e);
    }
    cudaEvent_t e = r.marks[r.n_marks++];
    PIPELAB_CUDA_CHECK(cudaEventRecord(e, r.stream));
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(e));
}

std::vector<double> CudaDevice::mark_times_us(int rank) {
    const Rank& r = m_ranks[static_cast<std::size_t>(rank)];
    const GpuState& g = *m_gpus[r.slot];
    const DeviceGuard guard(r.gpu);
    std::vector<double> out;
    out.reserve(r.n_marks);
    for (std::size_t i = 0; i < r.n_marks; ++i) {
        float ms = 0.0f;
        PIPELAB_CUDA_CHECK(cudaEventElapsedTime(&ms, g.base, r.marks[i]));
        out.push_back(g.offset_us + 1000.0 * ms);
    }
    return out;
}

// The one check that waits for the GPU (training.check_finite asks for it per action).
bool CudaDevice::all_finite(int rank, const float* data, std::int64_t n) {
    Rank& r = m_ranks[static_cast<std::size_t>(rank)];
    if (r.flag == nullptr) {
        PIPELAB_CUDA_CHECK(cudaMalloc(&r.flag, sizeof(int)));
        PIPELAB_CUDA_CHECK(cudaMallocHost(&r.flag_host, sizeof(int)));
    }
    PIPELAB_CUDA_CHECK(cudaMemsetAsync(r.flag, 0, sizeof(int), r.stream));
    launch_find_nonfinite(r.flag, data, n, r.stream);
    PIPELAB_CUDA_CHECK(cudaMemcpyAsync(r.flag_host, r.flag, sizeof(int), cudaMemcpyDeviceToHost, r.stream));
    PIPELAB_CUDA_CHECK(cudaStreamSynchronize(r.stream));
    return *r.flag_host == 0;
}

}  // namespace pipelab::gpu
