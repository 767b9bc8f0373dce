#pragma once
// Files that may be gzip-compressed, chosen by content on read and by extension on write:
// traces from torch.profiler often come as .json.gz, and a million-action PipeLab trace
// is a fraction of its size gzipped. Both sides stream, so a large file never sits in
// memory as one string.
#include <istream>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

namespace pipelab {

struct FileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// True when the path ends in ".gz" (the writer compresses those).
bool is_gzip_path(const std::string& path);

// Reads a plain or gzip file (detected from its first two bytes) as a std::istream.
// Throws FileError naming the path when it cannot be opened; a corrupt or truncated gzip
// stream sets badbit and error() says why.
class InputFile : public std::istream {
public:
    explicit InputFile(const std::string& path);
    ~InputFile() override;
    bool compressed() const;
    // Why reading stopped early ("" when it did not): "truncated gzip stream", ...
    std::string error() const;

private:
    class Buf;
    std::unique_ptr<Buf> m_buf;
};

// Writes `path` atomically: into "<path>.part", gzip-compressed when is_gzip_path(path),
// renamed over `path` by commit(). Destroyed without commit(), it removes the part file,
// so a failure leaves no half-written file behind. Throws FileError on I/O errors.
class OutputFile : public std::ostream {
public:
    explicit OutputFile(const std::string& path);
    ~OutputFile() override;
    void commit();

private:
    class Buf;
    std::unique_ptr<Buf> m_buf;
    std::string m_path, m_part;
    bool m_committed = false;
};

}  // namespace pipelab
