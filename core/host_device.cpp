#include "core/host_device.h"

#include <cmath>
#include <cstring>
#include <new>
#include <thread>

namespace pipelab {

namespace {
// Cache-line aligned, so that BLAS sees the alignment a malloc'd array would give.
constexpr std::align_val_t kAlign{64};
}  // namespace

HostDevice::HostDevice(int n_ranks)
    : m_ranks(n_ranks),
      m_shared_cores(static_cast<unsigned>(n_ranks) > std::max(1u, std::thread::hardware_concurrency())),
      m_marks(static_cast<std::size_t>(n_ranks)) {}

std::string HostDevice::label(int rank) const {
    return "cpu thread " + std::to_string(rank) + (m_shared_cores ? " (shared core)" : "");
}

DeviceBuffer HostDevice::allocate(int rank, std::int64_t bytes) {
    try {
        return {::operator new(static_cast<std::size_t>(bytes), kAlign), bytes};
    } catch (const std::bad_alloc&) {
        throw DeviceOutOfMemory("rank " + std::to_string(rank) + ": cannot allocate " + std::to_string(bytes >> 20) +
                                " MiB of host memory");
    }
}

void HostDevice::release(int, DeviceBuffer buffer) {
    if (buffer) ::operator delete(buffer.data, kAlign);
}

std::uint64_t HostDevice::copy_to_rank(int, int, const DeviceBuffer& from, const DeviceBuffer& to, std::uint64_t) {
    std::memcpy(to.data, from.data, static_cast<std::size_t>(from.bytes));
    return 0;
}

void HostDevice::start_clock() {
    for (auto& m : m_marks) m.clear();
    m_t0 = Clock::now();
}

// Everything on the CPU is done when the call returns: no fence is needed.
std::uint64_t HostDevice::mark(int rank) {
    m_marks[static_cast<std::size_t>(rank)].push_back(Clock::now());
    return 0;
}

std::vector<double> HostDevice::mark_times_us(int rank) {
    std::vector<double> out;
    const auto& marks = m_marks[static_cast<std::size_t>(rank)];
    out.reserve(marks.size());
    for (const auto& t : marks) out.push_back(std::chrono::duration<double, std::micro>(t - m_t0).count());
    return out;
}

bool HostDevice::all_finite(int, const float* data, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
        if (!std::isfinite(data[i])) return false;
    return true;
}

}  // namespace pipelab
