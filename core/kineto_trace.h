#pragma once
// One torch.profiler (Kineto) Chrome trace, as export_chrome_trace writes it, reduced to
// what the pipeline importer needs. The file is read as a stream of SAX events: the
// JSON text is never held in memory and no DOM is built; only the kept events are stored,
// about 40 bytes each, with their names interned.
//
// Kept: complete events ("ph":"X") that are CPU ops, user annotations (record_function),
// CUDA runtime calls and GPU kernels/memcpy/memset (with their correlation ids), plus
// events of any other category except known noise (python stacks, flows, profiler
// spans); "[memory]" instant events; the header's distributedInfo (rank, world size,
// backend), baseTimeNanoseconds and the first device name.
#include <atomic>
#include <cstdint>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pipelab {

// Bad import input (a file, a mapping, a step choice): the message names the file and
// what is wrong. The CLI exits 2 on it.
struct ImportError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The user stopped the import (a flag set from another thread).
struct ImportCancelled : ImportError {
    ImportCancelled() : ImportError("the import was cancelled") {}
};

enum class KinetoCat : std::uint8_t {
    CpuOp,           // "cpu_op": an aten/c10d operator on a CPU thread
    UserAnnotation,  // "user_annotation": record_function ranges (PP:..., ProfilerStep#N, gloo:send)
    Runtime,         // "cuda_runtime"/"cuda_driver": a launch on a CPU thread, with a correlation id
    Kernel,          // "kernel"/"gpu_memcpy"/"gpu_memset": device work, with a correlation id
    Other,           // any other category, or none (NVTX-like ranges from other tools)
};

struct KinetoEvent {
    double ts = 0;                  // µs, in the file's clock (add the base time to compare files)
    double dur = 0;                 // µs, >= 0
    std::int64_t correlation = -1;  // runtime call <-> kernel, -1 when absent
    std::int32_t name = -1;         // index into KinetoTrace::names (-1 for kernels: not needed)
    std::int32_t thread = -1;       // index into KinetoTrace::threads ("pid/tid")
    KinetoCat cat = KinetoCat::Other;
    double end() const { return ts + dur; }
};

// One allocator event: the total bytes allocated on that device after it.
struct KinetoMemory {
    double ts = 0;
    std::int64_t allocated = 0;
    std::int32_t device_type = 0;  // 0 CPU, 1 CUDA, ...
};

struct KinetoTrace {
    std::string source;  // file name, for messages
    std::optional<int> rank, world_size;
    std::string dist_backend;               // "gloo", "nccl", ...
    std::optional<long long> base_time_ns;  // add base_time_ns / 1000 to ts for wall time
    std::string device_name;                // first deviceProperties entry, "" on CPU-only traces
    bool pipelab_trace = false;             // has the top-level "pipelab" key: PipeLab's own format
    bool has_trace_events = false;          // a "traceEvents" array, or the JSON Array Format
    std::vector<std::string> names;         // interned event names
    std::vector<std::string> threads;       // interned "pid/tid"
    std::vector<KinetoEvent> events;        // in file order
    std::vector<KinetoMemory> memory;       // in file order
};

// Parses one trace from a stream. Throws ImportError naming `source`, the byte offset or
// event index, and what is wrong: not JSON, truncated, a kept event without ts/dur or
// with a non-finite or out-of-range time.
// `cancel`, when given, is polled every few thousand events; once set, ImportCancelled.
KinetoTrace read_kineto_trace(std::istream& in, const std::string& source, const std::atomic<bool>* cancel = nullptr);
// Plain or gzip file (detected by content).
KinetoTrace read_kineto_trace_file(const std::string& path, const std::atomic<bool>* cancel = nullptr);

}  // namespace pipelab
