#pragma once
// Schedule generators: pure functions of (p, m, v) that emit the compute order of every
// rank, and the lowering pass that adds the point-to-point communication.
#include <string>
#include <variant>

#include "core/schedule.h"

namespace pipelab {

enum class ScheduleKind { GPipe, OneFOneB, Interleaved, ZeroBubble, NUM_SCHEDULES };

std::string_view to_string(ScheduleKind k);  // "gpipe", "1f1b", "interleaved", "zb"
std::optional<ScheduleKind> parse_schedule_kind(std::string_view name);
std::string schedule_kind_names();                           // "gpipe, 1f1b, interleaved"

struct ScheduleSpec {
    ScheduleKind kind = ScheduleKind::OneFOneB;
    int stages = 1;        // p
    int microbatches = 1;  // m
    int chunks = 1;        // v, chunks per rank
};

// Why a spec cannot be generated and what would work; `field` is the spec field at fault
// ("stages", "microbatches", "chunks").
struct SpecProblem {
    std::string field;
    std::string message;
};

// Nullopt when the spec can be generated. n_layers: partition units available (a chunk
// needs at least one).
std::optional<SpecProblem> check_schedule_spec(const ScheduleSpec& spec, int n_layers);

// Compute-only orders (F and B). Preconditions as check_schedule_spec.
Schedule gpipe_order(int p, int m);
Schedule one_f_one_b_order(int p, int m);
Schedule interleaved_order(int p, int m, int v);
// Zero bubble (after Qi et al., 2024): the backward split into I and W, and W moved into
// the holes. Each rank runs, at every moment, an I if one is ready (it unblocks the rank
// upstream), else a forward if rank r holds fewer than 2p-1-r microbatches, else a
// pending W. The order is found by running that rule on unit-time F, I and W. With
// m >= p and F = I = W it reaches ZB-H1's bubble, (p-1)(F+I-W) per rank, a third of
// 1F1B's; the paper's hand-made H1 holds p microbatches, this greedy up to 2p-1-r
// (ZB-H2's memory): the memory plot shows that price.
Schedule zero_bubble_order(int p, int m);

// Lowering pass: inserts RECV_F before each forward whose input comes from another rank,
// SEND_F after each forward whose output goes to another rank, and likewise RECV_B/SEND_B
// around backwards (B or I). Receives are placed just before first use, so a rank never
// blocks earlier than its compute requires; sends are non-blocking.
Schedule add_send_recv(const Schedule& compute_only);

// Lowering pass: each full backward B becomes I then W (the zero-bubble split). With
// defer_w, every W moves to the end of its rank's list (in the order the Bs had), which
// holds activations longer but lets input gradients flow upstream sooner; otherwise W
// follows its I at once. Communication actions are untouched.
Schedule split_backward(const Schedule& s, bool defer_w);

// check_schedule_spec + order + add_send_recv. Throws std::invalid_argument with the
// check's message when the spec is impossible.
Schedule make_schedule(const ScheduleSpec& spec, int n_layers);

}  // namespace pipelab
