#include "core/memory_rule.h"

namespace pipelab {

ActionMemory action_memory(const Action& a, int n_chunks, bool recomputed) {
    ActionMemory m;
    const int c = a.chunk;
    const bool first = c == 0, last = c == n_chunks - 1;
    const auto alloc = [&](TensorRole r, int chunk) { m.alloc[static_cast<std::size_t>(m.n_alloc++)] = {r, chunk}; };
    const auto free = [&](TensorRole r, int chunk) { m.free[static_cast<std::size_t>(m.n_free++)] = {r, chunk}; };
    switch (a.kind) {
    case ActionKind::F:
        alloc(TensorRole::Saved, c);
        if (!last) alloc(TensorRole::Act, c + 1);
        if (recomputed)
            free(TensorRole::Saved, c);  // only the input is kept
        else if (!first)
            free(TensorRole::Act, c);  // the input is consumed
        break;
    case ActionKind::R:
        alloc(TensorRole::Saved, c);
        if (!first) free(TensorRole::Act, c);
        break;
    case ActionKind::B:
    case ActionKind::I:
        alloc(TensorRole::Pending, c);
        if (!first) alloc(TensorRole::Grad, c - 1);
        if (!last) free(TensorRole::Grad, c);
        if (a.kind == ActionKind::B) {
            free(TensorRole::Pending, c);
            free(TensorRole::Saved, c);
        }
        break;
    case ActionKind::W:
        free(TensorRole::Pending, c);
        free(TensorRole::Saved, c);
        break;
    case ActionKind::SEND_F: free(TensorRole::Act, c + 1); break;
    case ActionKind::SEND_B: free(TensorRole::Grad, c - 1); break;
    case ActionKind::RECV_F: alloc(TensorRole::Act, c); break;
    case ActionKind::RECV_B: alloc(TensorRole::Grad, c); break;
    case ActionKind::NUM_KINDS: break;
    }
    return m;
}

std::int64_t tensor_bytes(const TensorRef& t, const std::vector<ChunkSizes>& sizes) {
    const ChunkSizes& s = sizes[static_cast<std::size_t>(t.chunk)];
    switch (t.role) {
    case TensorRole::Act:
    case TensorRole::Grad: return s.boundary;
    case TensorRole::Saved: return s.saved;
    case TensorRole::Pending: return s.pending;
    }
    return 0;
}

}  // namespace pipelab
