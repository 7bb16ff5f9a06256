/*
 * C callbacks that misbehave inside the process executor's workers: one
 * calls exit(), one writes garbage to the sockets it finds, one closes every
 * descriptor, one never returns (under a time limit set from C). Each gives
 * a clear status and message; the host is untouched (its atexit handler
 * does not run in a worker, its stdio buffers are not written out twice);
 * the next transform works. A callback that returns a number that is no
 * tk_status does the same on every executor. Workers forked during a
 * transform on a host thread that then ends keep working for the pipeline.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum misdeed { EXITS, GARBLES, CLOSES, HANGS, ROGUE };

/* Copies its input; first, if the input starts below zero, does its misdeed. */
static tk_status misbehave(const tk_trace *const *inputs, size_t n_inputs, tk_trace **out,
                           void *user_data) {
    (void)n_inputs;
    const enum misdeed *what = user_data;
    const double *x = tk_trace_samples(inputs[0]);
    size_t len = tk_trace_len(inputs[0]);
    if (len > 0 && x[0] < 0.0) {
        switch (*what) {
        case EXITS:
            exit(7);
        case GARBLES:
            for (int fd = 3; fd < 1024; fd++) {
                struct stat st;
                if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
                    ssize_t written = write(fd, "garbage", 7);
                    (void)written;
                }
            }
            break;
        case CLOSES:
            for (int fd = 3; fd < 1024; fd++) {
                close(fd);
            }
            break;
        case HANGS:
            for (;;) {
                pause();
            }
        case ROGUE:
            return (tk_status)0xFFFFFFFFu;
        }
    }
    return tk_trace_new(x, len, tk_trace_sample_rate(inputs[0]), out);
}

static pid_t host;
static char marker[512];

/* The host's exit handler: in any other process (a worker that ran it by
 * mistake) it leaves a file behind. */
static void host_exit_handler(void) {
    if (getpid() != host) {
        int fd = open(marker, O_WRONLY | O_CREAT, 0600);
        if (fd >= 0) {
            close(fd);
        }
    }
}

/* The time limit of the hanging callback's stage, in seconds: ample for the
 * well-behaved transforms under valgrind. */
#define HANG_LIMIT 1.0

/* A one-step pipeline of `misbehave` on one worker of `kind`, with a time
 * limit for the one that hangs. */
static tk_pipeline *pipeline(const char *name, enum misdeed *what, tk_executor kind) {
    tk_pipeline *p = NULL;
    tk_transformer *t = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    CHECK_OK(tk_pipeline_set_parallel_config(p, kind, 1));
    if (*what == HANGS) {
        CHECK_OK(tk_pipeline_set_stage_timeout(p, HANG_LIMIT));
    }
    CHECK_OK(tk_transformer_from_callback(misbehave, what, NULL, &t));
    const char *const from_input[] = {"input"};
    CHECK_OK(tk_pipeline_add_step(p, name, t, from_input, 1));
    return p;
}

/* The pipeline works on a well-behaved input. */
static void check_works(tk_pipeline *p) {
    double x[3] = {1.0, 2.0, 3.0};
    tk_trace *input = NULL, *out = NULL;
    CHECK_OK(tk_trace_new(x, 3, 10.0, &input));
    CHECK_OK(tk_pipeline_transform(p, input, &out));
    CHECK(tk_trace_len(out) == 3 && memcmp(tk_trace_samples(out), x, sizeof x) == 0);
    tk_trace_free(out);
    tk_trace_free(input);
}

/* The misdeed's transform on `kind` fails with `status` and a message
 * holding each of `texts`; then the pipeline works again. */
static void check_misdeed_on(tk_executor kind, enum misdeed what, const char *name,
                             tk_status status, const char *const *texts, size_t n_texts) {
    tk_pipeline *p = pipeline(name, &what, kind);
    double x[3] = {-1.0, 2.0, 3.0};
    tk_trace *input = NULL, *out = NULL;
    CHECK_OK(tk_trace_new(x, 3, 10.0, &input));
    for (int round = 0; round < 2; round++) {
        tk_status got = tk_pipeline_transform(p, input, &out);
        const char *message = tk_last_error_message();
        CHECK(got == status && out == NULL);
        for (size_t i = 0; i < n_texts; i++) {
            if (strstr(message, texts[i]) == NULL) {
                fprintf(stderr, "message \"%s\" lacks \"%s\"\n", message, texts[i]);
                exit(1);
            }
        }
        check_works(p);
    }
    tk_trace_free(input);
    tk_pipeline_free(p);
}

/* The same, on the process executor, where a misdeed cannot reach the host. */
static void check_misdeed(enum misdeed what, const char *name, tk_status status,
                          const char *const *texts, size_t n_texts) {
    check_misdeed_on(TK_EXECUTOR_PROCESS, what, name, status, texts, n_texts);
}

/* The live child processes of this one (its workers), at most `max`, found
 * in /proc; gives how many. */
static size_t children(pid_t *out, size_t max) {
    size_t n = 0;
    DIR *proc = opendir("/proc");
    CHECK(proc != NULL);
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL && n < max) {
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        size_t len = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[len] = '\0';
        /* After the command name, in parentheses: the state and the parent. */
        const char *rest = strrchr(stat, ')');
        char state = 0;
        int parent = 0;
        if (rest != NULL && sscanf(rest, ") %c %d", &state, &parent) == 2 &&
            parent == (int)getpid() && state != 'Z' && state != 'X') {
            out[n++] = (pid_t)atoi(entry->d_name);
        }
    }
    closedir(proc);
    return n;
}

static void *first_transform(void *p) {
    check_works(p);
    return NULL;
}

/* The first transform forks the workers from a host thread that then ends:
 * they live on (a parent-death signal tied to that thread would kill them),
 * and the next transforms, from another thread, use the same workers. */
static void check_workers_outlive_the_forking_thread(void) {
    enum misdeed none = EXITS; /* only on negative inputs, which this sends none of */
    tk_pipeline *p = pipeline("copies", &none, TK_EXECUTOR_PROCESS);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, first_transform, p) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    pid_t before[8], after[8];
    size_t n = children(before, 8);
    CHECK(n == 1);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (int round = 0; round < 3; round++) {
        check_works(p);
    }
    CHECK(children(after, 8) == n && after[0] == before[0]);
    tk_pipeline_free(p);
    CHECK(children(after, 8) == 0);
}

int main(void) {
    host = getpid();
    const char *tmp = getenv("TMPDIR");
    snprintf(marker, sizeof marker, "%s/tracekit-c-atexit-%d", tmp ? tmp : "/tmp", (int)host);
    unlink(marker);
    CHECK(atexit(host_exit_handler) == 0);
    /* A stream with bytes in its buffer: a worker flushing its copy would
     * write them a second time. */
    FILE *stream = tmpfile();
    CHECK(stream != NULL);
    CHECK(fputs("buffered once\n", stream) >= 0);

    /* The status is the callback's, 7 (under valgrind, which ends a child
     * with its own --error-exitcode when it finds leaks there, it may not be). */
    const char *const exited[] = {"Worker running stage 'quits' (pid ", ") exited with status "};
    check_misdeed(EXITS, "quits", TK_ERR_WORKER_CRASHED, exited, 2);
    CHECK(access(marker, F_OK) != 0); /* the host's exit handler ran in no worker */

    const char *const garbled[] = {"running stage 'garbles' sent a malformed reply: ",
                                   "7 bytes are too short for a reply"};
    check_misdeed(GARBLES, "garbles", TK_ERR_WORKER_CRASHED, garbled, 2);

    /* Without its socket the worker cannot answer: it ends (exits, or, in a
     * debug build, aborts on closing a descriptor the callback closed
     * under it), and the run says which stage it was running. */
    const char *const closed[] = {"Worker running stage 'closes' (pid "};
    check_misdeed(CLOSES, "closes", TK_ERR_WORKER_CRASHED, closed, 1);

    /* A callback that never returns: its worker is killed at the limit set
     * from C, and replaced. */
    const char *const hung[] = {"Stage 'hangs' exceeded its time limit"};
    check_misdeed(HANGS, "hangs", TK_ERR_TIMEOUT, hung, 1);

    /* A return value that is no tk_status (legal C: it is a uint32_t). */
    const char *const rogue[] = {"Stage 'rogue' failed: ",
                                 "the C callback returned 4294967295, which is not a tk_status"};
    const tk_executor kinds[] = {TK_EXECUTOR_SEQUENTIAL, TK_EXECUTOR_THREAD, TK_EXECUTOR_PROCESS};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        check_misdeed_on(kinds[k], ROGUE, "rogue", TK_ERR_STAGE, rogue, 2);
    }

    check_workers_outlive_the_forking_thread();

    char back[64] = {0};
    CHECK(fflush(stream) == 0);
    rewind(stream);
    size_t n = fread(back, 1, sizeof back - 1, stream);
    /* Valgrind frees glibc's resources when any process of it ends, even by
     * _exit (--run-libc-freeres), which writes out stdio buffers: under it,
     * the workers' copies are written. */
    const char *preload = getenv("LD_PRELOAD");
    if (preload == NULL || strstr(preload, "vgpreload") == NULL) {
        CHECK(n == strlen("buffered once\n") && strcmp(back, "buffered once\n") == 0);
    }
    fclose(stream);

    printf("test_workers: ok\n");
    return 0;
}
