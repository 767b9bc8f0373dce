#pragma once
// Schedule generators: pure functions of (p, m, v) that emit the compute order of every
// rank, and the lowering pass that adds the point-to-point communication.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/schedule.h"

namespace pipelab {

// ZeroBubble is PipeLab's own greedy ("zb-greedy"); the others reproduce a peer's order:
// PyTorch's torch.distributed.pipelining (interleaved, bfs, interleaved-zb, zb-v,
// dualpipev, which DeepSeek's DualPipe orders the same), the zero-bubble repo's scheduler
// (zb-h1, zb-h2), Megatron-LM (interleaved with m % p == 0, equal to PyTorch's there).
enum class ScheduleKind {
    GPipe,
    OneFOneB,
    Interleaved,
    ZeroBubble,     // "zb-greedy"
    LoopedBFS,      // "bfs"
    InterleavedZB,  // "interleaved-zb"
    ZBH1,           // "zb-h1"
    ZBH2,           // "zb-h2"
    ZBV,            // "zb-v"
    DualPipeV,      // "dualpipev"
    NUM_SCHEDULES
};

std::string_view to_string(ScheduleKind k);  // "gpipe", "1f1b", "interleaved", "zb-greedy", ...
// Accepts every to_string name, and "zb" for zb-greedy (its name in older configs and traces).
std::optional<ScheduleKind> parse_schedule_kind(std::string_view name);
std::string schedule_kind_names();  // "gpipe, 1f1b, interleaved, ..."
// Chunks per rank a kind runs with by default: 2 for the V schedules, else 1 (interleaved
// needs the user's choice >= 2).
int default_chunks(ScheduleKind k);
// V placement (zb-v, dualpipev): chunk c on rank c for c < p, on rank 2p-1-c after.
std::vector<int> v_chunk_ranks(int p);
// Looped placement (interleaved, bfs, interleaved-zb): chunk c on rank c mod p.
std::vector<int> looped_chunk_ranks(int p, int v);
// The placement a kind's generator uses (chunk -> rank), for views that draw a plan
// before it is generated: V for zb-v/dualpipev with v = 2, else looped.
std::vector<int> chunk_placement(ScheduleKind k, int p, int v);

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
// Interleaved 1F1B as PyTorch's ScheduleInterleaved1F1B orders it: rounds =
// max(1, m / p), m % rounds == 0, microbatches_per_round = m / rounds. With m % p == 0 this
// is Megatron-LM's order (forward_backward_pipelining_with_interleaving).
Schedule interleaved_order(int p, int m, int v);
// PyTorch's ScheduleInterleavedZeroBubble (ZB1P over looped chunks): interleaved's rounds,
// warm-up (v-1)*per_round + (p-1-r), backwards split into I and W, rank r's W lagging r
// backwards behind.
Schedule interleaved_zb_order(int p, int m, int v);
// PyTorch's ScheduleLoopedBFS: every forward of a chunk before the next chunk's, then the
// backwards chunk by chunk in reverse, microbatches in reverse.
Schedule looped_bfs_order(int p, int m, int v);
// PyTorch's ScheduleZBVZeroBubble: two chunks per rank in V placement, F/I/W.
Schedule zbv_order(int p, int m);
// DeepSeek's DualPipeV (deepseek-ai/DualPipe dualpipev.py; PyTorch's ScheduleDualPipeV
// gives the same order): V placement, m >= 2p. An overlapped forward-backward pair is F
// then B; the backwards of the zero-bubble phases are I with their W run later, FIFO.
Schedule dualpipev_order(int p, int m);
// ZB-H1 (mem_factor 1) and ZB-H2 (mem_factor 2) as the zero-bubble repo's scheduler
// (sail-sg/zero-bubble-pipeline-parallelism, scheduler/zb.py) orders them the first time
// its runtime calls it: F = I = W = 1000, communication 1, a limit of mem_factor * p
// microbatches in flight per rank. Its best of 8 greedy variants, by completion time.
Schedule zb_h_order(int p, int m, int mem_factor);
// zb-greedy, PipeLab's own zero bubble (after Qi et al., 2024): the backward split into I and W, and W moved into
// the holes. Each rank runs, at every moment, an I if one is ready (it unblocks the rank
// upstream), else a forward if rank r holds fewer than 2p-1-r microbatches, else a
// pending W. The order is found by running that rule on unit-time F, I and W. With
// m >= p and F = I = W it reaches ZB-H1's bubble, (p-1)(F+I-W) per rank, a third of
// 1F1B's; the paper's hand-made H1 holds p microbatches, this greedy up to 2p-1-r
// (ZB-H2's memory): the memory plot shows that price; zb-h1 is the peer's H1.
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
