#pragma once
// The CPU device: host memory, memcpy between ranks, one steady clock for every rank.
// Each rank is a thread of this process; when there are more ranks than cores they
// time-share, and the label says so.
#include <chrono>
#include <vector>

#include "core/device.h"

namespace pipelab {

class HostDevice final : public Device {
public:
    explicit HostDevice(int n_ranks);

    std::string kind() const override { return "cpu"; }
    std::string label(int rank) const override;
    DeviceBuffer allocate(int rank, std::int64_t bytes) override;
    void release(int rank, DeviceBuffer buffer) override;
    std::uint64_t copy_to_rank(int src, int dst, const DeviceBuffer& from, const DeviceBuffer& to,
                               std::uint64_t to_free_after) override;
    void start_clock() override;
    std::uint64_t mark(int rank) override;
    std::vector<double> mark_times_us(int rank) override;
    bool all_finite(int rank, const float* data, std::int64_t n) override;

private:
    using Clock = std::chrono::steady_clock;
    int m_ranks;
    bool m_shared_cores;
    Clock::time_point m_t0;
    std::vector<std::vector<Clock::time_point>> m_marks;  // per rank, touched by its thread
};

}  // namespace pipelab
