#include "core/file_io.h"

#include <array>
#include <cstdio>
#include <streambuf>

#if PIPELAB_HAVE_ZLIB
#include <zlib.h>
#endif

namespace pipelab {

bool is_gzip_path(const std::string& path) { return path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0; }

namespace {
constexpr std::size_t kChunk = 1 << 16;
[[maybe_unused]] const char* kNoZlib = "this build has no zlib (install zlib1g-dev and rebuild)";
}  // namespace

// ---- reading ------------------------------------------------------------------------------

// zlib's gzFile reads plain files transparently too, so one path serves both; without
// zlib, plain stdio reads plain files and gzip ones are refused.
class InputFile::Buf : public std::streambuf {
public:
    explicit Buf(const std::string& path) {
        m_file = std::fopen(path.c_str(), "rb");
        if (m_file == nullptr) throw FileError("cannot open " + path);
        unsigned char magic[2] = {0, 0};
        m_compressed = std::fread(magic, 1, 2, m_file) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        std::rewind(m_file);
#if PIPELAB_HAVE_ZLIB
        std::fclose(m_file);
        m_file = nullptr;
        m_gz = gzopen(path.c_str(), "rb");
        if (m_gz == nullptr) throw FileError("cannot open " + path);
        gzbuffer(m_gz, 1 << 17);
#else
        if (m_compressed) {
            std::fclose(m_file);
            throw FileError(path + " is gzip-compressed, but " + kNoZlib);
        }
#endif
    }
    ~Buf() override {
#if PIPELAB_HAVE_ZLIB
        if (m_gz != nullptr) gzclose(m_gz);
#endif
        if (m_file != nullptr) std::fclose(m_file);
    }
    bool compressed() const { return m_compressed; }
    const std::string& error() const { return m_error; }

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        const long n = read_some();
        if (n <= 0) return traits_type::eof();
        setg(m_data.data(), m_data.data(), m_data.data() + n);
        return traits_type::to_int_type(*gptr());
    }

private:
    long read_some() {
#if PIPELAB_HAVE_ZLIB
        const int n = gzread(m_gz, m_data.data(), static_cast<unsigned>(m_data.size()));
        if (n <= 0) {
            int code = Z_OK;
            const char* msg = gzerror(m_gz, &code);
            if (n < 0 || (code != Z_OK && code != Z_STREAM_END))
                m_error = msg != nullptr ? msg : "read error";
            else if (m_compressed && !gzeof(m_gz))
                m_error = "truncated gzip stream";
        }
        return n;
#else
        const std::size_t n = std::fread(m_data.data(), 1, m_data.size(), m_file);
        if (n == 0 && std::ferror(m_file)) m_error = "read error";
        return static_cast<long>(n);
#endif
    }

    std::FILE* m_file = nullptr;
#if PIPELAB_HAVE_ZLIB
    gzFile m_gz = nullptr;
#endif
    bool m_compressed = false;
    std::string m_error;
    std::array<char, kChunk> m_data{};
};

InputFile::InputFile(const std::string& path) : std::istream(nullptr), m_buf(std::make_unique<Buf>(path)) {
    rdbuf(m_buf.get());
}
InputFile::~InputFile() = default;
bool InputFile::compressed() const { return m_buf->compressed(); }
std::string InputFile::error() const { return m_buf->error(); }

// ---- writing ------------------------------------------------------------------------------

class OutputFile::Buf : public std::streambuf {
public:
    Buf(const std::string& part, const std::string& path, bool gzip) {
        if (gzip) {
#if PIPELAB_HAVE_ZLIB
            m_gz = gzopen(part.c_str(), "wb1");
            if (m_gz == nullptr) throw FileError("cannot write " + path);
            gzbuffer(m_gz, 1 << 17);
#else
            throw FileError("cannot write " + path + " gzip-compressed: " + kNoZlib);
#endif
        } else {
            m_file = std::fopen(part.c_str(), "wb");
            if (m_file == nullptr) throw FileError("cannot write " + path);
        }
        setp(m_data.data(), m_data.data() + m_data.size());
    }
    ~Buf() override { close(); }
    // Flushes and closes; false when any write failed.
    bool close() {
        bool ok = flush_buffer() && m_ok;
#if PIPELAB_HAVE_ZLIB
        if (m_gz != nullptr) ok = gzclose(m_gz) == Z_OK && ok;
        m_gz = nullptr;
#endif
        if (m_file != nullptr) ok = std::fclose(m_file) == 0 && ok;
        m_file = nullptr;
        return ok;
    }

protected:
    int_type overflow(int_type ch) override {
        if (!flush_buffer()) return traits_type::eof();
        if (!traits_type::eq_int_type(ch, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(ch);
            pbump(1);
        }
        return traits_type::not_eof(ch);
    }
    int sync() override { return flush_buffer() ? 0 : -1; }

private:
    bool flush_buffer() {
        const auto n = static_cast<std::size_t>(pptr() - pbase());
        if (n > 0 && m_ok) {
#if PIPELAB_HAVE_ZLIB
            if (m_gz != nullptr) m_ok = gzwrite(m_gz, pbase(), static_cast<unsigned>(n)) == static_cast<int>(n);
#endif
            if (m_file != nullptr) m_ok = std::fwrite(pbase(), 1, n, m_file) == n;
        }
        setp(m_data.data(), m_data.data() + m_data.size());
        return m_ok;
    }

    bool m_ok = true;
#if PIPELAB_HAVE_ZLIB
    gzFile m_gz = nullptr;
#endif
    std::FILE* m_file = nullptr;
    std::array<char, kChunk> m_data{};
};

OutputFile::OutputFile(const std::string& path) : std::ostream(nullptr), m_path(path), m_part(path + ".part") {
    m_buf = std::make_unique<Buf>(m_part, path, is_gzip_path(path));
    rdbuf(m_buf.get());
}

OutputFile::~OutputFile() {
    if (m_committed) return;
    m_buf->close();
    std::remove(m_part.c_str());
}

void OutputFile::commit() {
    flush();
    const bool ok = !bad() && m_buf->close();
    m_committed = true;  // from here on there is no part file left to clean up
    if (!ok || std::rename(m_part.c_str(), m_path.c_str()) != 0) {
        std::remove(m_part.c_str());
        throw FileError("error while writing " + m_path);
    }
}

}  // namespace pipelab
