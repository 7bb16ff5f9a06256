/*
 * C callbacks that misbehave inside the process executor's workers: one
 * calls exit(), one writes garbage to the sockets it finds, one closes every
 * descriptor. Each gives a clear status and message; the host is untouched
 * (its atexit handler does not run in a worker, its stdio buffers are not
 * written out twice); the next transform works.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

enum misdeed { EXITS, GARBLES, CLOSES };

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

/* A one-step pipeline of `misbehave` on one worker process. */
static tk_pipeline *pipeline(const char *name, enum misdeed *what) {
    tk_pipeline *p = NULL;
    tk_transformer *t = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    CHECK_OK(tk_pipeline_set_parallel_config(p, TK_EXECUTOR_PROCESS, 1));
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

/* The misdeed's transform fails with `status` and a message holding each of
 * `texts`; then the pipeline works again. */
static void check_misdeed(enum misdeed what, const char *name, tk_status status,
                          const char *const *texts, size_t n_texts) {
    tk_pipeline *p = pipeline(name, &what);
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
