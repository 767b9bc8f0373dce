#include "core/timeline.h"

#include <algorithm>
#include <limits>

namespace pipelab {

double Timeline::step_time_us() const {
    if (events.empty()) return 0.0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& e : events) {
        lo = std::min(lo, e.start_us);
        hi = std::max(hi, e.end_us);
    }
    return hi - lo;
}

}  // namespace pipelab
