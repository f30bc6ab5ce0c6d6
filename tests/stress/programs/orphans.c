/* Make orphans fast: the load generator for the orphan storm and the soak.
 *
 * Same protocol as orphans.py (its slower twin, used where no C compiler is
 * found); see there. Written in C only for speed: a fork of a small C process
 * costs a tenth of a fork of a Python one, so the soak's 200,000 children take
 * seconds, and the rate measured is pyinit's, not the generator's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static pid_t fork_retrying(long *retries) {
    for (;;) {
        pid_t pid = fork();
        if (pid >= 0 || errno != EAGAIN)
            return pid;
        ++*retries; /* at a pids limit: wait for the reaper to free a slot */
        usleep(1000);
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: orphans TOTAL BURST DELAY_EVERY DELAY_MAX_US [--wait-go]\n");
        return 2;
    }
    long total = atol(argv[1]), burst = atol(argv[2]);
    long delay_every = atol(argv[3]), delay_max = atol(argv[4]);
    int wait_go = argc > 5 && strcmp(argv[5], "--wait-go") == 0;
    signal(SIGUSR1, SIG_IGN); /* the storm's signals reach the whole group */
    signal(SIGHUP, SIG_IGN);
    signal(SIGWINCH, SIG_IGN);
    sigset_t go;
    sigemptyset(&go);
    sigaddset(&go, SIGUSR2);
    sigprocmask(SIG_BLOCK, &go, NULL);
    if (wait_go) {
        printf("ready %d\n", getpid());
        fflush(stdout);
        int signum;
        sigwait(&go, &signum);
    }
    int alive[2];
    if (pipe(alive) != 0)
        return 1;
    double start = now();
    long made = 0, retries = 0;
    unsigned seed = (unsigned)getpid();
    while (made < total) {
        long count = burst < total - made ? burst : total - made;
        pid_t middle = fork_retrying(&retries);
        if (middle < 0)
            return 1;
        if (middle == 0) {
            close(alive[0]);
            for (long i = 0; i < count; i++) {
                long delay = (delay_every > 0 && (made + i) % delay_every == 0)
                                 ? (long)(rand_r(&seed) % (delay_max + 1)) : 0;
                pid_t worker = fork_retrying(&retries);
                if (worker == 0) {
                    if (delay)
                        usleep(delay);
                    _exit(0); /* closes our end of `alive` */
                }
            }
            _exit(0); /* the workers are orphans now */
        }
        while (waitpid(middle, NULL, 0) < 0 && errno == EINTR)
            ;
        made += count;
    }
    close(alive[1]);
    char byte;
    while (read(alive[0], &byte, 1) != 0 && errno == EINTR) /* EOF: every worker has exited */
        ;
    printf("done %ld %.3f\n", made, now() - start);
    fflush(stdout);
    for (;;)
        pause(); /* until SIGTERM, whose default action ends us */
}
