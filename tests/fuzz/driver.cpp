// Standalone fuzz driver: the `main` of every fuzz target when it is not linked with libFuzzer
// (GCC builds, the release and ASan+UBSan suites of `make test`). It
//   1. runs every file of the seed corpus (directories are read, sorted by name; files are taken as is),
//   2. then mutates the seeds deterministically (bit flips, byte insert/delete, chunk duplication,
//      splicing of two seeds, boundary integers, ASCII digit tweaks) until the time budget is spent,
//   3. prints the number of executions and executions/second.
// No coverage feedback: this is a bounded regression fuzzer, libFuzzer (SIGIL_FUZZ=ON) explores.
//
//   fuzz_der [--seconds S] [--runs N] [--seed N] [--max-len N] [--timeout S] [--artifact-prefix P]
//            CORPUS_DIR_OR_FILE...
//
// --seconds 0 (the default) only replays the inputs: `fuzz_der crash-file` reproduces a crasher.
// When an input crashes (signal, sanitizer report, uncaught exception) or hangs past --timeout, it is
// written to <artifact-prefix>crash-<fnv64> (or timeout-<fnv64>) before the process dies.
#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional hook of a target (libFuzzer's signature); weak so targets need not define it.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));
// Present when linked with ASan/UBSan: called before the sanitizer kills the process.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

// UBSan reports end in Die(); with GCC libubsan is a runtime of its own, so the death callback set
// through libasan never sees them. abort_on_error turns them into SIGABRT, which on_signal catches to
// write the input. A default only: UBSAN_OPTIONS from the environment still wins key by key.
extern "C" const char* __ubsan_default_options() { return "abort_on_error=1:print_stacktrace=1"; }

namespace {

using Input = std::vector<std::uint8_t>;

// The input being executed, for the crash handlers (async-signal-safe access only).
const std::uint8_t* volatile g_data = nullptr;
volatile std::size_t g_size = 0;
char g_prefix[512] = "./";
volatile sig_atomic_t g_dumped = 0;

std::uint64_t fnv64(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

// Async-signal-safe: only write(2)/open(2) and stack buffers.
void dump_current(const char* kind) {
  if (g_dumped != 0 || g_data == nullptr) return;
  g_dumped = 1;
  const std::uint8_t* data = g_data;
  const std::size_t size = g_size;
  char path[640];
  std::size_t n = 0;
  for (const char* s = g_prefix; *s != '\0' && n < 560; ++s) path[n++] = *s;
  for (const char* s = kind; *s != '\0' && n < 600; ++s) path[n++] = *s;
  path[n++] = '-';
  std::uint64_t h = fnv64(data, size);
  for (int i = 15; i >= 0; --i) path[n++] = "0123456789abcdef"[(h >> (i * 4)) & 0xf];
  path[n] = '\0';
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    std::size_t off = 0;
    while (off < size) {
      const ssize_t w = ::write(fd, data + off, size - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    ::close(fd);
  }
  const char* msg = "\n==fuzz driver== input written to ";
  (void)!::write(2, msg, std::strlen(msg));
  (void)!::write(2, path, n);
  (void)!::write(2, "\n", 1);
}

void on_sanitizer_death() { dump_current("crash"); }

void on_signal(int sig) {
  dump_current(sig == SIGALRM ? "timeout" : "crash");
  if (sig == SIGALRM) {
    const char* msg = "==fuzz driver== input exceeded --timeout\n";
    (void)!::write(2, msg, std::strlen(msg));
    sig = SIGABRT;
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// xoshiro256** seeded by splitmix64: deterministic for a given --seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform-ish in [0, n); n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool coin(unsigned one_in) { return below(one_in) == 0; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

constexpr std::array<std::uint64_t, 14> kBoundaries{0,    1,          0x7f,       0x80,       0xff,
                                                    0x100, 0x7fff,    0x8000,     0xffff,     0x10000,
                                                    0x7fffffff, 0x80000000, 0xffffffff, ~0ULL};

void mutate_once(Input& in, const std::vector<Input>& seeds, Rng& rng, std::size_t max_len) {
  switch (rng.below(11)) {
    case 0:  // flip one bit
      if (!in.empty()) in[rng.below(in.size())] ^= static_cast<std::uint8_t>(1U << rng.below(8));
      break;
    case 1:  // random byte
      if (!in.empty()) in[rng.below(in.size())] = static_cast<std::uint8_t>(rng.next());
      break;
    case 2: {  // insert 1..4 random bytes
      const std::size_t pos = rng.below(in.size() + 1);
      const std::size_t n = 1 + rng.below(4);
      for (std::size_t i = 0; i < n; ++i) in.insert(in.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<std::uint8_t>(rng.next()));
      break;
    }
    case 3: {  // delete a range
      if (in.empty()) break;
      const std::size_t pos = rng.below(in.size());
      const std::size_t n = 1 + rng.below(std::min<std::size_t>(in.size() - pos, rng.coin(4) ? 256 : 8));
      in.erase(in.begin() + static_cast<std::ptrdiff_t>(pos), in.begin() + static_cast<std::ptrdiff_t>(pos + n));
      break;
    }
    case 4: {  // duplicate a chunk somewhere
      if (in.empty()) break;
      const std::size_t from = rng.below(in.size());
      const std::size_t n = 1 + rng.below(std::min<std::size_t>(in.size() - from, 128));
      const Input chunk(in.begin() + static_cast<std::ptrdiff_t>(from), in.begin() + static_cast<std::ptrdiff_t>(from + n));
      const std::size_t to = rng.below(in.size() + 1);
      in.insert(in.begin() + static_cast<std::ptrdiff_t>(to), chunk.begin(), chunk.end());
      break;
    }
    case 5: {  // splice: a prefix of this input + a suffix of another seed
      if (seeds.empty()) break;
      const Input& other = seeds[rng.below(seeds.size())];
      const std::size_t cut = rng.below(in.size() + 1);
      const std::size_t ocut = rng.below(other.size() + 1);
      in.resize(cut);
      in.insert(in.end(), other.begin() + static_cast<std::ptrdiff_t>(ocut), other.end());
      break;
    }
    case 6: {  // boundary integer, 1/2/4/8 bytes, either endianness
      if (in.empty()) break;
      const std::size_t width = std::size_t{1} << rng.below(4);
      const std::size_t pos = rng.below(in.size());
      const std::uint64_t v = kBoundaries[rng.below(kBoundaries.size())] + (rng.coin(4) ? rng.below(3) - 1 : 0);
      const bool big = rng.coin(2);
      for (std::size_t i = 0; i < width && pos + i < in.size(); ++i) {
        const std::size_t shift = 8 * (big ? width - 1 - i : i);
        in[pos + i] = static_cast<std::uint8_t>(v >> shift);
      }
      break;
    }
    case 7: {  // ASCII number tweak (PDF offsets, lengths, JSON and TOML numbers)
      if (in.empty()) break;
      const std::size_t start = rng.below(in.size());
      for (std::size_t i = start; i < in.size() && i < start + 64; ++i) {
        if (in[i] >= '0' && in[i] <= '9') {
          static constexpr const char* kDigits[] = {"0", "9", "-1", "4294967296", "99999999999999999999", "1e308"};
          const std::string d = kDigits[rng.below(std::size(kDigits))];
          if (rng.coin(2)) {
            in[i] = static_cast<std::uint8_t>('0' + rng.below(10));
          } else {
            in.insert(in.begin() + static_cast<std::ptrdiff_t>(i), d.begin(), d.end());
          }
          break;
        }
      }
      break;
    }
    case 8: {  // copy a chunk over another place
      if (in.size() < 2) break;
      const std::size_t from = rng.below(in.size());
      const std::size_t to = rng.below(in.size());
      const std::size_t n = 1 + rng.below(std::min<std::size_t>({in.size() - from, in.size() - to, 64}));
      std::memmove(in.data() + to, in.data() + from, n);
      break;
    }
    case 9:  // truncate
      if (!in.empty()) in.resize(rng.below(in.size()));
      break;
    default: {  // insert a chunk of another seed
      if (seeds.empty()) break;
      const Input& other = seeds[rng.below(seeds.size())];
      if (other.empty()) break;
      const std::size_t from = rng.below(other.size());
      const std::size_t n = 1 + rng.below(std::min<std::size_t>(other.size() - from, 256));
      const std::size_t to = rng.below(in.size() + 1);
      in.insert(in.begin() + static_cast<std::ptrdiff_t>(to), other.begin() + static_cast<std::ptrdiff_t>(from),
                other.begin() + static_cast<std::ptrdiff_t>(from + n));
      break;
    }
  }
  if (in.size() > max_len) in.resize(max_len);
}

Input read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Input((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

unsigned g_timeout = 0;

void run_one(const Input& in) {
  // A copy of exactly `size` bytes on the heap, so ASan sees every read past the end.
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[in.size() == 0 ? 1 : in.size()]);
  if (!in.empty()) std::memcpy(copy.get(), in.data(), in.size());
  g_data = copy.get();
  g_size = in.size();
  if (g_timeout != 0) ::alarm(g_timeout);
  LLVMFuzzerTestOneInput(copy.get(), in.size());
  if (g_timeout != 0) ::alarm(0);
  g_data = nullptr;
  g_size = 0;
}

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--seconds S] [--runs N] [--seed N] [--max-len N] [--timeout S] [--artifact-prefix P] "
               "CORPUS_DIR_OR_FILE...\n",
               argv0);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0;
  std::uint64_t runs = 0;  // 0 = until the time budget is spent
  std::uint64_t seed = 1;
  std::size_t max_len = 64 * 1024;
  g_timeout = 25;
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0]);
      return argv[++i];
    };
    if (a == "--seconds") {
      seconds = std::stod(value());
    } else if (a == "--runs") {
      runs = std::stoull(value());
    } else if (a == "--seed") {
      seed = std::stoull(value());
    } else if (a == "--max-len") {
      max_len = std::stoull(value());
    } else if (a == "--timeout") {
      g_timeout = static_cast<unsigned>(std::stoul(value()));
    } else if (a == "--artifact-prefix") {
      const std::string p = value();
      if (p.size() >= sizeof(g_prefix)) usage(argv[0]);
      std::memcpy(g_prefix, p.c_str(), p.size() + 1);
    } else if (a == "-h" || a == "--help") {
      usage(argv[0]);
    } else if (!a.empty() && a[0] == '-') {
      usage(argv[0]);
    } else {
      inputs.emplace_back(a);
    }
  }
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(on_sanitizer_death);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) std::signal(sig, on_signal);

  std::vector<Input> seeds;
  for (const auto& p : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) seeds.push_back(read_file(f));
    } else if (std::filesystem::is_regular_file(p, ec)) {
      seeds.push_back(read_file(p));
    } else {
      std::fprintf(stderr, "fuzz driver: no such file or directory: %s\n", p.c_str());
      return 2;
    }
  }

  const auto start = std::chrono::steady_clock::now();
  std::uint64_t execs = 0;
  for (const auto& s : seeds) {
    run_one(s);
    ++execs;
  }
  const std::uint64_t replayed = execs;

  if (seconds > 0 || runs > 0) {
    Rng rng(seed);
    if (seeds.empty()) seeds.emplace_back();  // mutate from the empty input
    const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(seconds > 0 ? seconds : 1e9));
    Input in;
    for (std::uint64_t n = 0; runs == 0 || n < runs; ++n) {
      if ((n & 7) == 0 && std::chrono::steady_clock::now() >= deadline) break;
      in = seeds[rng.below(seeds.size())];
      const std::size_t stack = 1 + rng.below(rng.coin(8) ? 16 : 4);
      for (std::size_t k = 0; k < stack; ++k) mutate_once(in, seeds, rng, max_len);
      run_one(in);
      ++execs;
    }
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz driver: %llu seed(s) replayed, %llu mutated execution(s), %.2f s, %.0f exec/s (seed %llu)\n",
              static_cast<unsigned long long>(replayed), static_cast<unsigned long long>(execs - replayed), elapsed,
              elapsed > 0 ? static_cast<double>(execs) / elapsed : 0.0, static_cast<unsigned long long>(seed));
  return 0;
}
