// CudaStage: the GPT layers of one rank on its GPU (see cuda_stage.h).
#include "gpu/cuda_stage.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/device.h"
#include "core/gpt_tensors.h"
#include "gpu/cuda_check.h"
#include "gpu/gpt_layer_math.h"
#include "gpu/kernels/launch.h"

namespace pipelab::gpu {

namespace {}  // namespace

void* CudaStage::device_alloc(std::int64_t bytes, const char* what) {
    if (bytes <= 0) return nullptr;
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, static_cast<std::size_t>(bytes));
    if (e != cudaSuccess) {
        cudaGetLastError();  // out of memory is not sticky: clear it
        std::size_t free = 0, total = 0;
        cudaMemGetInfo(&free, &total);
        throw DeviceOutOfMemory("rank " + std::to_string(m_rank) + " on GPU " + std::to_string(m_gpu) +
                                ": cannot allocate " + gib(bytes) + " for " + what + " (" + cudaGetErrorString(e) +
                                "); " + gib(static_cast<std::int64_t>(free)) + " free of " +
                                gib(static_cast<std::int64_t>(total)));
    }
    m_allocations.push_back(p);
    return p;
}

CudaStage::CudaStage(const ModelConfig& cfg, const Partition& part, std::vector<int> chunks, std::uint64_t seed,
                     const TokenData& data, std::uint64_t data_seed, int n_microbatches, AdamWConfig adam,
                     Precision precision, int rank, int gpu, cudaStream_t stream)
    : m_cfg(cfg), m_d(gpt_dims(cfg)), m_data(data), m_data_seed(data_seed), m_microbatches(n_microbatches),
      m_adam(adam), m_rank(rank), m_gpu(gpu), m_stream(stream), m_chunk_ids(std::move(chunks)) {
    const DeviceGuard guard(gpu);
    try {
        m_layout = stage_layout(cfg, part, m_chunk_ids, n_microbatches, precision);
        for (int c : m_chunk_ids) m_chunks.push_back(chunk_layout(m_d, part.first_layer(c), part.end_layer(c)));
        // Layers in model order, whatever the order of the chunks.
        for (const Chunk& ch : m_chunks)
            for (int l = ch.first; l < ch.end; ++l) m_layer_ids.push_back(l);
        std::sort(m_layer_ids.begin(), m_layer_ids.end());
        std::int64_t off = 0;
        for (int l : m_layer_ids) {
            m_param_off.push_back(off);
            off += layer_bytes(layer_kind(l, m_d), Buffer::Params, m_d) / 4;
        }
        const std::int64_t n = m_layout.n_params;
        if (off != n) throw std::logic_error("CudaStage: parameter count disagrees with the layout");

        m_params = static_cast<float*>(device_alloc(n * 4, "parameters"));
        m_grads = static_cast<float*>(device_alloc(n * 4, "gradients"));
        m_m = static_cast<float*>(device_alloc(n * 4, "AdamW first moment"));
        m_v = static_cast<float*>(device_alloc(n * 4, "AdamW second moment"));
        if (m_layout.bf16) m_params_bf16 = device_alloc(n * 2, "bf16 copy of the parameters");
        m_ping = static_cast<float*>(device_alloc(m_layout.boundary_floats * 4, "layer output work space"));
        m_pong = static_cast<float*>(device_alloc(m_layout.boundary_floats * 4, "layer output work space"));
        m_step_data = static_cast<int*>(device_alloc(m_layout.data_ints * 4, "tokens and targets"));
        m_scratch = static_cast<std::byte*>(device_alloc(m_layout.scratch_bytes, "backward scratch"));
        auto* partials = static_cast<float*>(device_alloc(m_layout.partial_floats * 4, "reduction work space"));
        void* cast_a = device_alloc(m_layout.cast_elems * 2, "bf16 operand buffer");
        void* cast_b = device_alloc(m_layout.cast_elems * 2, "bf16 operand buffer");
        void* blas_ws = device_alloc(m_layout.blas_workspace, "cuBLAS work space");
        m_loss_dev = static_cast<double*>(device_alloc(sizeof(double), "loss sum"));
        if (m_layout.data_ints > 0)
            PIPELAB_CUDA_CHECK(cudaMallocHost(&m_step_data_host, static_cast<std::size_t>(m_layout.data_ints) * 4));
        PIPELAB_CUDA_CHECK(cudaMallocHost(&m_loss_host, sizeof(double)));

        // The same initial model as every backend: core/gpt_tensors' init on the host.
        std::vector<float> host(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < m_layer_ids.size(); ++i)
            init_layer_params(layer_kind(m_layer_ids[i], m_d), m_layer_ids[i], m_d, host.data() + m_param_off[i], seed);
        PIPELAB_CUDA_CHECK(
            cudaMemcpyAsync(m_params, host.data(), static_cast<std::size_t>(n) * 4, cudaMemcpyHostToDevice, m_stream));
        for (float* p : {m_grads, m_m, m_v})
            PIPELAB_CUDA_CHECK(cudaMemsetAsync(p, 0, static_cast<std::size_t>(n) * 4, m_stream));
        if (m_params_bf16) launch_cast_to_bf16(m_params_bf16, m_params, n, m_stream);

        PIPELAB_CUBLAS_CHECK(cublasCreate(&m_blas));
        PIPELAB_CUBLAS_CHECK(cublasSetStream(m_blas, m_stream));
        PIPELAB_CUBLAS_CHECK(cublasSetWorkspace(m_blas, blas_ws, static_cast<std::size_t>(m_layout.blas_workspace)));
        PIPELAB_CUBLAS_CHECK(cublasSetMathMode(m_blas, CUBLAS_DEFAULT_MATH));
        m_ops.stream = m_stream;
        m_ops.blas = m_blas;
        m_ops.precision = precision;
        m_ops.partials = partials;
        m_ops.partial_floats = m_layout.partial_floats;
        m_ops.loss_sum = m_loss_dev;
        m_ops.params = m_params;
        m_ops.n_params = n;
        m_ops.params_bf16 = m_params_bf16;
        m_ops.cast_a = cast_a;
        m_ops.cast_b = cast_b;
        m_ops.cast_elems = m_layout.cast_elems;
        PIPELAB_CUDA_CHECK(cudaStreamSynchronize(m_stream));  // `host` goes out of scope
    } catch (...) {
        release_all();  // the destructor does not run for a half-built stage
        throw;
    }
}

CudaStage::~CudaStage() { release_all(); }

// No throwing here: errors at teardown are ignored (the context may already be gone).
void CudaStage::release_all() noexcept {
    int prev = -1;
    cudaGetDevice(&prev);
    cudaSetDevice(m_gpu);
    if (m_stream) cudaStreamSynchronize(m_stream);
    if (m_blas) cublasDestroy(m_blas);
    m_blas = nullptr;
    for (void* p : m_allocations) cudaFree(p);
    m_allocations.clear();
    if (m_step_data_host) cudaFreeHost(m_step_data_host);
    if (m_loss_host) cudaFreeHost(m_loss_host);
    m_step_data_host = nullptr;
    m_loss_host = nullptr;
    cudaGetLastError();
    if (prev >= 0) cudaSetDevice(prev);
}

const CudaStage::Chunk& CudaStage::chunk_of(int c) const {
    for (std::size_t i = 0; i < m_chunk_ids.size(); ++i)
        if (m_chunk_ids[i] == c) return m_chunks[i];
    throw std::logic_error("chunk " + std::to_string(c) + " is not on rank " + std::to_string(m_rank));
}

std::size_t CudaStage::slot(int layer) const {
    const auto it = std::lower_bound(m_layer_ids.begin(), m_layer_ids.end(), layer);
    if (it == m_layer_ids.end() || *it != layer)
        throw std::logic_error("layer " + std::to_string(layer) + " is not on rank " + std::to_string(m_rank));
    return static_cast<std::size_t>(it - m_layer_ids.begin());
}

bool CudaStage::holds_layer(int l) const { return std::binary_search(m_layer_ids.begin(), m_layer_ids.end(), l); }

ChunkSizes CudaStage::buffers(int c) const {
    const Chunk& ch = chunk_of(c);
    return {ch.act_bytes, ch.pend_bytes, m_layout.boundary_floats * 4};
}

// Zeroes the gradients and the loss sum, and uploads this step's tokens and targets (the
// same windows the CPU engine reads) in one copy; the host mirror is free again because
// the previous step ended with the stream drained.
void CudaStage::zero_grad() {
    PIPELAB_CUDA_CHECK(cudaMemsetAsync(m_grads, 0, static_cast<std::size_t>(m_layout.n_params) * 4, m_stream));
    PIPELAB_CUDA_CHECK(cudaMemsetAsync(m_loss_dev, 0, sizeof(double), m_stream));
    if (m_layout.data_ints == 0) return;
    const std::int64_t bt = std::int64_t{m_d.B} * m_d.T;
    for (int mb = 0; mb < m_microbatches; ++mb) {
        int* tok = m_step_data_host + 2 * bt * mb;
        m_data.batch(m_data_seed, m_step, mb, m_d.B, m_d.T, tok, tok + bt);
    }
    PIPELAB_CUDA_CHECK(cudaMemcpyAsync(m_step_data, m_step_data_host, static_cast<std::size_t>(m_layout.data_ints) * 4,
                                       cudaMemcpyHostToDevice, m_stream));
}

void CudaStage::run_forward(int c, int mb, const float* input, std::byte* saved, float* output, bool count_loss) {
    const Chunk& ch = chunk_of(c);
    const std::int64_t bt = std::int64_t{m_d.B} * m_d.T;
    const int* tok = m_step_data != nullptr ? m_step_data + 2 * bt * mb : nullptr;
    const int* tgt = tok != nullptr ? tok + bt : nullptr;
    const float* x = input;
    for (int l = ch.first; l < ch.end; ++l) {
        const std::size_t i = slot(l);
        const std::size_t k = static_cast<std::size_t>(l - ch.first);
        float* next = x == m_ping ? m_pong : m_ping;
        float* out = l + 1 == ch.end && output != nullptr ? output : next;
        layer_forward(m_ops, layer_kind(l, m_d), m_d, m_params + m_param_off[i], LayerArgs{x, tok, tgt}, out,
                      saved + ch.act_off[k], count_loss);
        x = out;
    }
}

void CudaStage::forward(int c, int mb, const float* input, std::byte* saved, float* output) {
    run_forward(c, mb, input, saved, output, true);
}

// The same kernels on the same input: the backward sees the forward's activations again
// (bit for bit, as far as cuBLAS picks the same algorithm); the loss is not counted twice.
void CudaStage::recompute(int c, int mb, const float* input, std::byte* saved) {
    run_forward(c, mb, input, saved, nullptr, false);
}

// Layers in reverse; gradients between layers ping-pong, the first layer writes dinput.
void CudaStage::backward_input(int c, int, const float* dout, std::byte* saved, std::byte* pending, float* dinput) {
    const Chunk& ch = chunk_of(c);
    const float* g = dout;
    for (int l = ch.end - 1; l >= ch.first; --l) {
        const std::size_t i = slot(l);
        const std::size_t k = static_cast<std::size_t>(l - ch.first);
        float* dx = l == ch.first ? dinput : (g == m_ping ? m_pong : m_ping);
        layer_backward_input(m_ops, layer_kind(l, m_d), m_d, m_params + m_param_off[i], g, saved + ch.act_off[k],
                             pending + ch.pend_off[k], m_scratch, dx);
        g = dx;
    }
}

void CudaStage::backward_weight(int c, int, const std::byte* saved, const std::byte* pending) {
    const Chunk& ch = chunk_of(c);
    for (int l = ch.first; l < ch.end; ++l) {
        const std::size_t i = slot(l);
        const std::size_t k = static_cast<std::size_t>(l - ch.first);
        layer_backward_weight(m_ops, layer_kind(l, m_d), m_d, m_grads + m_param_off[i], saved + ch.act_off[k],
                              pending + ch.pend_off[k]);
    }
}

// Once per step, after the rank's last action: the one wait of the step.
double CudaStage::loss_sum() {
    PIPELAB_CUDA_CHECK(cudaMemcpyAsync(m_loss_host, m_loss_dev, sizeof(double), cudaMemcpyDeviceToHost, m_stream));
    PIPELAB_CUDA_CHECK(cudaStreamSynchronize(m_stream));
    return *m_loss_host;
}

// The summed gradients scaled by 1/m, then AdamW, in one pass (and the bf16 copy).
void CudaStage::optimizer_step(int step) {
    if (!m_apply_optimizer) return;
    const float t = static_cast<float>(step);
    const AdamWStep a{m_adam.lr,
                      m_adam.beta1,
                      m_adam.beta2,
                      m_adam.eps,
                      m_adam.weight_decay,
                      1.0f - std::pow(m_adam.beta1, t),
                      1.0f - std::pow(m_adam.beta2, t),
                      1.0f / static_cast<float>(m_microbatches)};
    launch_adamw(m_params, m_grads, m_m, m_v, a, m_layout.n_params, m_params_bf16, m_stream);
}

std::vector<float> CudaStage::read_back(const float* p, std::int64_t n) const {
    const DeviceGuard guard(m_gpu);
    std::vector<float> out(static_cast<std::size_t>(n));
    PIPELAB_CUDA_CHECK(cudaStreamSynchronize(m_stream));
    PIPELAB_CUDA_CHECK(cudaMemcpy(out.data(), p, static_cast<std::size_t>(n) * 4, cudaMemcpyDeviceToHost));
    return out;
}

std::vector<float> CudaStage::layer_grads(int l) const {
    const std::size_t i = slot(l);
    return read_back(m_grads + m_param_off[i], layer_bytes(layer_kind(l, m_d), Buffer::Params, m_d) / 4);
}

std::vector<float> CudaStage::layer_params(int l) const {
    const std::size_t i = slot(l);
    return read_back(m_params + m_param_off[i], layer_bytes(layer_kind(l, m_d), Buffer::Params, m_d) / 4);
}

}  // namespace pipelab::gpu
