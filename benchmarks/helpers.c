/* initbench's two workloads, in C so that they cost the same under every init
 * and so that making 20,000 orphans takes seconds, not minutes.
 *
 *   helpers sigrecv             block SIGUSR1, print "ready", then for every
 *                               SIGUSR1 sigwaitinfo returns write the
 *                               CLOCK_MONOTONIC time (8 bytes, native int64).
 *   helpers orphans N stream|burst
 *                               print "ready PID", wait for "go" on stdin, make
 *                               N orphans for the init to reap, print one
 *                               "result k=v ..." line, wait for "exit".
 *
 * Orphans are made by a double clone: an intermediate process starts the
 * orphan and exits, so the orphan is reparented to the init (PID 1, or the
 * nearest child subreaper: prctl(2) PR_SET_CHILD_SUBREAPER). clone(2) with
 * CLONE_VM is used instead of fork(2): on the machine this was written on a
 * fork costs ~0.4 ms of page-table copying, a CLONE_VM clone ~0.06 ms. For the
 * init it changes nothing: each orphan is a separate process (own pid, own
 * thread group) that becomes a zombie and must be reaped with wait.
 *
 *   stream: N times, one intermediate clones one orphan and exits; the orphan
 *           spins until it has been reparented, then exits. Zombies arrive at
 *           the init one by one while the stream goes on.
 *   burst:  one intermediate clones N orphans blocked on a pipe and exits (all
 *           N are now the init's); then the pipe is closed and all exit at once.
 *
 * Measured (CLOCK_MONOTONIC): total_ms from "go" until the last orphan is
 * reaped; exit_ms from release (burst) or the last clone (stream) until every
 * orphan has exited (EOF on a pipe each holds); drain_ms from then until every
 * orphan is reaped (kill(pid, 0) fails with ESRCH only once the zombie is
 * gone: a zombie still accepts signal 0); peak: the most orphans seen exited
 * but not yet reaped in any sample.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (16 * 1024)
#define DEADLINE_S 120.0

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sigrecv(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (write(1, "ready\n", 6) != 6)
        return 1;
    for (;;) {
        siginfo_t info;
        if (sigwaitinfo(&set, &info) < 0)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        if (write(1, &ns, sizeof ns) != (ssize_t)sizeof ns)
            return 1;
    }
}

/* Shared by every process below: they all run in this one address space. */
static long n;
static int stream;
static pid_t *pids;
static char *stacks;
static long exited;   /* orphans that have begun to exit */
static int release_r, release_w, alive_w;

static char *stack_top(long slot) { return stacks + (slot + 1) * (long)STACK_SIZE; }

/* Only raw syscalls from here on: no TLS of its own, no libc state. */
static int orphan(void *arg) {
    long parent = (long)arg;
    if (stream) {
        while (syscall(SYS_getppid) == parent)
            syscall(SYS_sched_yield);
    } else {
        char c;
        while (syscall(SYS_read, release_r, &c, 1) < 0)
            ;
    }
    __atomic_fetch_add(&exited, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_exit, 0);
    return 0;
}

static int intermediate(void *arg) {
    long i = (long)arg, me = syscall(SYS_getpid);
    if (stream) {
        pids[i] = clone(orphan, stack_top(i), CLONE_VM | SIGCHLD, (void *)me);
    } else {
        syscall(SYS_close, release_w);
        for (long k = 0; k < n; k++) {
            pid_t pid = clone(orphan, stack_top(k), CLONE_VM | SIGCHLD, (void *)me);
            if (pid < 0)
                break;  /* out of pids or memory: report fewer */
            pids[k] = pid;
        }
    }
    syscall(SYS_exit, 0);
    return 0;
}

static pid_t *outstanding;
static long n_outstanding, created, peak;

static void scan(void) {
    long kept = 0;
    for (long i = 0; i < n_outstanding; i++)
        if (kill(outstanding[i], 0) == 0 || errno != ESRCH)
            outstanding[kept++] = outstanding[i];
    n_outstanding = kept;
    long reaped = created - n_outstanding;
    long zombies = __atomic_load_n(&exited, __ATOMIC_SEQ_CST) - reaped;
    if (zombies > peak)
        peak = zombies;
}

static void add_outstanding(long i) {
    if (pids[i] > 0) {
        outstanding[n_outstanding++] = pids[i];
        created++;
    }
}

static int orphans(long count, const char *mode) {
    n = count;
    stream = strcmp(mode, "stream") == 0;
    pids = calloc(n + 1, sizeof *pids);
    outstanding = calloc(n + 1, sizeof *outstanding);
    stacks = mmap(NULL, (n + 2) * (long)STACK_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    int release[2], alive[2];
    if (!pids || !outstanding || stacks == MAP_FAILED || pipe(release) || pipe(alive)) {
        perror("orphans: set-up");
        return 1;
    }
    release_r = release[0], release_w = release[1], alive_w = alive[1];
    printf("ready %d\n", getpid());
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        return 1;
    double t_go = now(), t_created, t_release, t_exited = 0, t_drained = 0;
    if (stream) {
        for (long i = 0; i < n; i++) {
            pid_t mid = clone(intermediate, stack_top(n), CLONE_VM | SIGCHLD, (void *)i);
            if (mid < 0)
                break;
            while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
                ;
            add_outstanding(i);
            if ((i & 255) == 255)
                scan();
        }
        t_created = t_release = now();
    } else {
        pid_t mid = clone(intermediate, stack_top(n), CLONE_VM | SIGCHLD, (void *)0);
        if (mid > 0)
            while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
                ;
        for (long i = 0; i < n; i++)
            add_outstanding(i);
        t_created = t_release = now();
        /* Every orphan's read returns 0: all exit at once. close() itself takes
         * long (it wakes every reader), so the clock starts before it. */
        close(release_w);
    }
    close(alive_w);  /* now only the orphans hold it */
    struct pollfd p = {.fd = alive[0], .events = POLLIN};
    for (;;) {
        if (!t_exited && poll(&p, 1, 0) == 1) {
            char c;
            if (read(alive[0], &c, 1) == 0)
                t_exited = now();
        }
        scan();
        if (n_outstanding == 0) {
            if (!t_exited && poll(&p, 1, 1000) == 1)
                t_exited = now();
            t_drained = now();
            if (t_exited > t_drained)
                t_exited = t_drained;
            break;
        }
        if (now() - t_go > DEADLINE_S)
            break;
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    double end = t_drained ? t_drained : now();
    printf("result created=%ld total_ms=%.3f create_ms=%.3f exit_ms=%.3f drain_ms=%.3f peak=%ld left=%ld\n",
           created, (end - t_go) * 1e3, (t_created - t_go) * 1e3,
           t_exited ? (t_exited - t_release) * 1e3 : -1.0,
           t_exited && t_drained ? (t_drained - t_exited) * 1e3 : -1.0, peak, n_outstanding);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        return 0;
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "sigrecv") == 0)
        return sigrecv();
    if (argc == 4 && strcmp(argv[1], "orphans") == 0)
        return orphans(atol(argv[2]), argv[3]);
    fprintf(stderr, "usage: helpers sigrecv | helpers orphans N stream|burst\n");
    return 2;
}
