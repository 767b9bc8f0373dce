#pragma once
// Which of PipeLab's generators produced an order: the compute order of every rank
// (F, B, I, W; communication stripped) is compared with make_schedule() for every
// ScheduleKind at the same p, m, v and chunk placement. A kind added to ScheduleKind is
// recognised without touching this file.
#include <optional>

#include "core/schedule.h"
#include "core/schedule_gen.h"

namespace pipelab {

// `s` without its communication actions.
Schedule compute_only(const Schedule& s);

// The first kind whose generated order equals `order` (compute actions compared; `order`
// may hold communication too), nullopt for an order no generator makes.
std::optional<ScheduleKind> recognise_schedule(const Schedule& order);

}  // namespace pipelab
