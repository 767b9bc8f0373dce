#pragma once
// The one validator for any schedule, generated or loaded from JSON. It checks that
//   - every action belongs on its rank (chunk -> rank map) and names a real chunk and
//     microbatch, and every send/recv crosses a real rank boundary;
//   - every (chunk, microbatch) has exactly one F and one backward (B, or I then W);
//   - on each rank, every action comes after what it consumes (F before its backward,
//     the input before F, the output gradient before the backward, I before W);
//   - every receive has exactly one matching send and vice versa;
//   - running all ranks in order, with non-blocking sends and blocking receives, finishes:
//     no circular wait.
#include <optional>
#include <string>

#include "core/schedule.h"

namespace pipelab {

struct ScheduleError {
    int rank = -1;        // rank at fault (-1: the schedule as a whole)
    int index = -1;       // action index on that rank (== size when something is missing)
    std::string message;  // what is wrong, naming rank, index and action
    std::string grid;     // the schedule with the bad step marked
    std::string what() const { return grid.empty() ? message : message + "\n" + grid; }
};

std::optional<ScheduleError> validate_schedule(const Schedule& s);

}  // namespace pipelab
