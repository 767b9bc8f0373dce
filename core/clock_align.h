#pragma once
// Ranks' clocks differ (other hosts, other processes' time bases). A receive cannot end
// before its send starts: every matched transfer gives one such bound on the difference
// of two ranks' clock offsets. align_clocks finds the smallest shifts (each rank moved
// later, never earlier, rank by rank) that satisfy every bound: ranks whose clocks already
// agree stay where they are.
#include <string>
#include <vector>

namespace pipelab {

struct ClockPair {
    int send_rank = 0;
    double send_start_us = 0;
    int recv_rank = 0;
    double recv_end_us = 0;
};

struct ClockAlignment {
    std::vector<double> shift_us;  // add to every time of rank r
    std::string problem;           // non-empty when the bounds contradict each other
};

// Longest paths over the bounds shift[recv] >= shift[send] + send_start - recv_end
// (Bellman-Ford from all-zero). A cycle that keeps growing means no shifts satisfy every
// bound (a transfer seen to end before it began in both directions): then no rank is
// shifted and `problem` names the tightest contradiction.
ClockAlignment align_clocks(int n_ranks, const std::vector<ClockPair>& pairs);

}  // namespace pipelab
