/*
 * The API from 4 threads at once: each thread builds and runs its own
 * pipeline, all of them share one pipeline, and each keeps its own last
 * error message.
 */
#include <pthread.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 20
#define N 512

static tk_pipeline *shared;

static tk_transformer *builtin(const char *kind, const char *params) {
    tk_transformer *t = NULL;
    CHECK_OK(tk_transformer_new(kind, params, &t));
    return t;
}

static void *worker(void *arg) {
    int id = (int)(size_t)arg;
    double x[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = (double)i * 0.5 - (double)id;
    }
    tk_trace *input = NULL;
    CHECK_OK(tk_trace_new(x, N, 1000.0, &input));

    /* Its own pipeline: scale by (id + 1), on threads. */
    char params[64];
    snprintf(params, sizeof params, "{\"factor\": %d}", id + 1);
    tk_pipeline *own = NULL;
    CHECK_OK(tk_pipeline_new(&own));
    const char *const from_input[] = {"input"};
    CHECK_OK(tk_pipeline_add_step(own, "scale", builtin("scale", params), from_input, 1));
    CHECK_OK(tk_pipeline_add_step(own, "shift", builtin("offset", "{\"value\": 1}"), from_input, 1));
    const char *const both[] = {"scale", "shift"};
    CHECK_OK(tk_pipeline_add_step(own, "sum", builtin("merge", "{\"op\": \"sum\"}"), both, 2));
    CHECK_OK(tk_pipeline_set_parallel_config(own, TK_EXECUTOR_THREAD, 2));

    for (int round = 0; round < ROUNDS; round++) {
        tk_trace *out = NULL;
        CHECK_OK(tk_pipeline_transform(own, input, &out));
        for (size_t i = 0; i < N; i++) {
            CHECK(tk_trace_samples(out)[i] == x[i] * (id + 1) + (x[i] + 1.0));
        }
        tk_trace_free(out);

        /* The shared pipeline (scale by 10): calls take turns. */
        CHECK_OK(tk_pipeline_transform(shared, input, &out));
        for (size_t i = 0; i < N; i++) {
            CHECK(tk_trace_samples(out)[i] == x[i] * 10.0);
        }
        tk_trace_free(out);
        tk_trace *inter = NULL;
        CHECK_OK(tk_pipeline_get_intermediate(shared, "ten", &inter));
        CHECK(tk_trace_len(inter) == N);
        tk_trace_free(inter);

        /* This thread's own error message. */
        char name[32];
        snprintf(name, sizeof name, "missing-%d", id);
        CHECK_ERR(tk_pipeline_get_intermediate(own, name, &inter), TK_ERR_NOT_FOUND, name);
    }
    tk_pipeline_free(own);
    tk_trace_free(input);
    return NULL;
}

int main(void) {
    CHECK_OK(tk_pipeline_new(&shared));
    CHECK_OK(tk_pipeline_add_step(shared, "ten", builtin("scale", "{\"factor\": 10}"), NULL, 0));
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, worker, (void *)(size_t)i) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
    }
    tk_pipeline_free(shared);
    printf("test_threads: ok\n");
    return 0;
}
