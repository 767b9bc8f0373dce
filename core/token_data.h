#pragma once
// Training data for the CPU/GPU engines: byte-level tokens from a text file, or synthetic
// random tokens of any vocabulary size. A microbatch is B windows of T+1 consecutive
// tokens (inputs and next-token targets) at offsets drawn from (seed, step, microbatch),
// so every backend and every partition sees exactly the same data.
#include <cstdint>
#include <string>
#include <vector>

namespace pipelab {

class TokenData {
public:
    // Throws std::runtime_error naming the path when it cannot be read or is too short;
    // byte tokens need vocab >= 256.
    static TokenData from_file(const std::string& path, int vocab, int seq_len);
    static TokenData synthetic(int vocab);

    // tokens, targets: (B, T) each.
    void batch(std::uint64_t seed, int step, int microbatch, int B, int T, int* tokens, int* targets) const;

    bool is_synthetic() const { return m_bytes.empty(); }
    std::size_t size() const { return m_bytes.size(); }
    const std::string& source() const { return m_source; }

private:
    std::vector<std::uint8_t> m_bytes;  // empty: synthetic
    int m_vocab = 256;
    std::string m_source;
};

}  // namespace pipelab
