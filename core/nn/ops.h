#pragma once
// The fp32 CPU ops of a GPT-2-style decoder, llm.c train_gpt2.c style: one function per
// op, forward and backward side by side, no hidden state, caller-owned buffers.
// Every matmul goes through OpenBLAS cblas_sgemm (row-major).
//
// Letters: B microbatch size, T sequence length, C channels (d_model), OC output
// channels of a linear, NH heads, hs = C / NH head size, F d_ff, V vocab, N any count.
//
// Conventions (as in llm.c):
//   - every backward ACCUMULATES into its gradient outputs (+=); zero them first;
//   - a linear keeps its weight as (OC, C) and computes out = inp @ W^T + bias;
//   - the backward of a linear and of a LayerNorm is also available split in two:
//     *_backward_input (I: gradient w.r.t. the input) and *_backward_weight
//     (W: gradient w.r.t. the parameters), so that W can run later (zero-bubble schedules);
//   - ops never change the BLAS thread count; call nn_set_single_threaded_blas() once.

namespace pipelab::nn {

// Make OpenBLAS use one thread (each pipeline rank is one thread of its own).
void nn_set_single_threaded_blas();

// ---- encoder: token + position embedding -------------------------------------------
// out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]
void encoder_forward(float* out,        // (B, T, C)
                     const int* inp,    // (B, T) token ids in [0, V)
                     const float* wte,  // (V, C)
                     const float* wpe,  // (T, C)
                     int B, int T, int C);
void encoder_backward(float* dwte,        // (V, C) +=
                      float* dwpe,        // (T, C) +=
                      const float* dout,  // (B, T, C)
                      const int* inp,     // (B, T)
                      int B, int T, int C);

// ---- layernorm (eps 1e-5), saves mean and reciprocal std ----------------------------
void layernorm_forward(float* out,           // (B, T, C)
                       float* mean,          // (B, T)
                       float* rstd,          // (B, T)
                       const float* inp,     // (B, T, C)
                       const float* weight,  // (C)
                       const float* bias,    // (C)
                       int B, int T, int C);
// Fused (llm.c): dinp, dweight and dbias in one pass.
void layernorm_backward(float* dinp,          // (B, T, C) +=
                        float* dweight,       // (C) +=
                        float* dbias,         // (C) +=
                        const float* dout,    // (B, T, C)
                        const float* inp,     // (B, T, C)
                        const float* weight,  // (C)
                        const float* mean,    // (B, T)
                        const float* rstd,    // (B, T)
                        int B, int T, int C);
void layernorm_backward_input(float* dinp,          // (B, T, C) +=
                              const float* dout,    // (B, T, C)
                              const float* inp,     // (B, T, C)
                              const float* weight,  // (C)
                              const float* mean,    // (B, T)
                              const float* rstd,    // (B, T)
                              int B, int T, int C);
void layernorm_backward_weight(float* dweight,     // (C) +=
                               float* dbias,       // (C) +=
                               const float* dout,  // (B, T, C)
                               const float* inp,   // (B, T, C)
                               const float* mean,  // (B, T)
                               const float* rstd,  // (B, T)
                               int B, int T, int C);

// ---- linear: out = inp @ W^T + bias --------------------------------------------------
void matmul_forward(float* out,           // (B, T, OC)
                    const float* inp,     // (B, T, C)
                    const float* weight,  // (OC, C)
                    const float* bias,    // (OC) or nullptr
                    int B, int T, int C, int OC);
// I: dinp += dout @ W
void matmul_backward_input(float* dinp,          // (B, T, C) +=
                           const float* dout,    // (B, T, OC)
                           const float* weight,  // (OC, C)
                           int B, int T, int C, int OC);
// W: dW += dout^T @ inp, dbias += sum over (B, T) of dout
void matmul_backward_weight(float* dweight,     // (OC, C) +=
                            float* dbias,       // (OC) += , or nullptr
                            const float* dout,  // (B, T, OC)
                            const float* inp,   // (B, T, C)
                            int B, int T, int C, int OC);
// I then W.
void matmul_backward(float* dinp,          // (B, T, C) +=
                     float* dweight,       // (OC, C) +=
                     float* dbias,         // (OC) += , or nullptr
                     const float* dout,    // (B, T, OC)
                     const float* inp,     // (B, T, C)
                     const float* weight,  // (OC, C)
                     int B, int T, int C, int OC);

// ---- causal multi-head self-attention (ops_attention.cpp) ----------------------------
// inp holds q, k, v side by side: inp[b,t, 0:C] = q, [C:2C] = k, [2C:3C] = v; head h owns
// channels [h*hs, (h+1)*hs) of each. att[b,h,t,:] are the softmax probabilities of
// scale * q_t . k_j (scale = 1/sqrt(hs)) over j <= t, exactly 0 for j > t.
void attention_forward(float* out,        // (B, T, C)
                       float* att,        // (B, NH, T, T) saved for the backward
                       const float* inp,  // (B, T, 3C)
                       int B, int T, int C, int NH);
void attention_backward(float* dinp,        // (B, T, 3C) +=
                        float* scratch,     // (T, T) work space, contents undefined after
                        const float* dout,  // (B, T, C)
                        const float* inp,   // (B, T, 3C)
                        const float* att,   // (B, NH, T, T)
                        int B, int T, int C, int NH);

// ---- GELU, tanh approximation ------------------------------------------------------------
void gelu_forward(float* out,        // (N)
                  const float* inp,  // (N)
                  long long N);
void gelu_backward(float* dinp,        // (N) +=
                   const float* inp,   // (N)
                   const float* dout,  // (N)
                   long long N);

// ---- residual: out = inp1 + inp2 (out may alias either input) ------------------------------
void residual_forward(float* out,         // (N)
                      const float* inp1,  // (N)
                      const float* inp2,  // (N)
                      long long N);
void residual_backward(float* dinp1,       // (N) +=
                       float* dinp2,       // (N) +=
                       const float* dout,  // (N)
                       long long N);

// ---- fused softmax + cross-entropy ---------------------------------------------------------
// probs = softmax(logits) over V, losses = -log probs[target]. probs may alias logits.
void crossentropy_softmax_forward(float* probs,         // (B, T, V)
                                  float* losses,        // (B, T)
                                  const float* logits,  // (B, T, V)
                                  const int* targets,   // (B, T) in [0, V)
                                  int B, int T, int V);
// dlogits += (probs - onehot(target)) * dloss, with the same dloss at every position
// (1 / (B*T) for the mean loss).
void crossentropy_softmax_backward(float* dlogits,      // (B, T, V) +=
                                   const float* probs,  // (B, T, V)
                                   const int* targets,  // (B, T)
                                   float dloss, int B, int T, int V);

}  // namespace pipelab::nn
