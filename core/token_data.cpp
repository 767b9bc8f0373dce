#include "core/token_data.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace pipelab {

namespace {
// splitmix64: a tiny, well-mixed hash; identical on every platform and standard library.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
std::uint64_t hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    return mix(mix(mix(mix(seed) ^ a) ^ b) ^ c);
}
}  // namespace

TokenData TokenData::from_file(const std::string& path, int vocab, int seq_len) {
    if (vocab < 256) throw std::runtime_error("byte-level text needs model.vocab >= 256, got " + std::to_string(vocab));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open training text " + path);
    TokenData d;
    d.m_bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (d.m_bytes.size() < static_cast<std::size_t>(seq_len) + 2)
        throw std::runtime_error("training text " + path + " has " + std::to_string(d.m_bytes.size()) +
                                 " bytes, fewer than seq_len + 2 = " + std::to_string(seq_len + 2));
    d.m_vocab = vocab;
    d.m_source = path;
    return d;
}

TokenData TokenData::synthetic(int vocab) {
    TokenData d;
    d.m_vocab = vocab;
    d.m_source = "synthetic";
    return d;
}

void TokenData::batch(std::uint64_t seed, int step, int microbatch, int B, int T, int* tokens, int* targets) const {
    for (int b = 0; b < B; ++b) {
        const std::uint64_t h = hash(seed, static_cast<std::uint64_t>(step), static_cast<std::uint64_t>(microbatch),
                                     static_cast<std::uint64_t>(b));
        int* tok = tokens + static_cast<std::size_t>(b) * T;
        int* tgt = targets + static_cast<std::size_t>(b) * T;
        if (is_synthetic()) {
            // Random tokens; the target of position t is the token at t+1 of the same stream.
            const auto at = [&](int t) {
                return static_cast<int>(hash(h, static_cast<std::uint64_t>(t), 0, 1) %
                                        static_cast<std::uint64_t>(m_vocab));
            };
            for (int t = 0; t < T; ++t) {
                tok[t] = at(t);
                tgt[t] = at(t + 1);
            }
        } else {
            const std::size_t offset = h % (m_bytes.size() - static_cast<std::size_t>(T) - 1);
            for (int t = 0; t < T; ++t) {
                tok[t] = m_bytes[offset + t];
                tgt[t] = m_bytes[offset + t + 1];
            }
        }
    }
}

}  // namespace pipelab
