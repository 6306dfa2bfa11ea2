#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "sigil/common/error.hpp"
#include "sigil/otp/channels.hpp"

namespace sigil::otp {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void wipe_all(std::vector<std::string>& v) {
  for (auto& s : v) secure_wipe(s.data(), s.size());
}

}  // namespace

CommandChannel::CommandChannel(CommandOptions options, std::string name) : options_(std::move(options)), name_(std::move(name)) {
  if (options_.argv.empty() || options_.argv[0].empty() || options_.argv[0][0] != '/') {
    throw Error(Errc::config_invalid, "otp command channel: command must be an absolute path");
  }
}

void CommandChannel::deliver(const Message& m) {
  std::vector<std::string> env{"SIGIL_OTP_RECIPIENT=" + m.recipient, "SIGIL_OTP_USER=" + m.username,
                               "SIGIL_OTP_TRANSACTION=" + m.transaction_id,
                               "SIGIL_OTP_EXPIRES_AT=" + std::to_string(m.expires_at), "SIGIL_OTP_TEXT=" + m.text,
                               "SIGIL_OTP_CODE=" + std::string(m.code.view()),
                               "PATH=/usr/local/bin:/usr/bin:/bin"};
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options_.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    wipe_all(env);
    throw Error(Errc::io, std::string("otp command channel: pipe: ") + std::strerror(errno));
  }
  Fd read_end{pipefd[0]};
  Fd write_end{pipefd[1]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, read_end.fd, STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  wipe_all(env);
  if (rc != 0) throw Error(Errc::io, "otp command channel: cannot run " + options_.argv[0] + ": " + std::strerror(rc));
  ::close(read_end.fd);
  read_end.fd = -1;

  // The code on stdin, one line. A child that exits without reading it must not kill sigild with
  // SIGPIPE: the signal is blocked in this thread for the write and a pending one is consumed.
  // A failed write is not an error in itself: the exit status decides.
  std::string line(m.code.view());
  line.push_back('\n');
  {
    sigset_t pipe_set;
    sigset_t old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    const auto written = ::write(write_end.fd, line.data(), line.size());
    if (written < 0 && errno == EPIPE) {
      const timespec zero{0, 0};
      while (::sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  }
  secure_wipe(line.data(), line.size());
  ::close(write_end.fd);
  write_end.fd = -1;

  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) throw Error(Errc::io, std::string("otp command channel: waitpid: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw Error(Errc::io, "otp command channel: " + options_.argv[0] + " timed out");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(Errc::io, "otp command channel: " + options_.argv[0] + " failed (status " + std::to_string(status) + ")");
  }
}

}  // namespace sigil::otp
