/*
 * The C API end to end: a fan-out pipeline of built-ins and a C callback on
 * every executor, checked against values computed here; intermediates,
 * measurements, execution order, specs; and every error status with its
 * message.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "check.h"

#define PI 3.14159265358979323846
#define N 256
#define RATE 1000.0

/* ---- a C stage: squares its one input --------------------------------- */

struct square_data {
    atomic_int calls;
};

static atomic_int freed_user_data;

static tk_status square(const tk_trace *const *inputs, size_t n_inputs, tk_trace **out,
                        void *user_data) {
    struct square_data *data = user_data;
    atomic_fetch_add(&data->calls, 1);
    if (n_inputs != 1) {
        return TK_ERR_INVALID_ARGUMENT;
    }
    size_t len = tk_trace_len(inputs[0]);
    const double *x = tk_trace_samples(inputs[0]);
    double *y = malloc((len ? len : 1) * sizeof *y);
    if (y == NULL) {
        return TK_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < len; i++) {
        y[i] = x[i] * x[i];
    }
    tk_status s = tk_trace_new(y, len, tk_trace_sample_rate(inputs[0]), out);
    free(y);
    return s;
}

static void free_square_data(void *user_data) {
    atomic_fetch_add(&freed_user_data, 1);
    free(user_data);
}

/* A stage that always fails, after a tk_ call of its own failed. */
static tk_status failing(const tk_trace *const *inputs, size_t n_inputs, tk_trace **out,
                         void *user_data) {
    (void)inputs;
    (void)n_inputs;
    (void)user_data;
    (void)out;
    tk_trace *bad = NULL;
    tk_status s = tk_trace_new(NULL, 0, NAN, &bad);
    tk_trace_free(bad);
    return s;
}

/* A stage that claims success but makes nothing. */
static tk_status lazy(const tk_trace *const *inputs, size_t n_inputs, tk_trace **out,
                      void *user_data) {
    (void)inputs;
    (void)n_inputs;
    (void)out;
    (void)user_data;
    return TK_OK;
}

/* A stage that returns a number that is no tk_status (legal C: it is a uint32_t). */
static tk_status rogue(const tk_trace *const *inputs, size_t n_inputs, tk_trace **out,
                       void *user_data) {
    (void)inputs;
    (void)n_inputs;
    (void)out;
    (void)user_data;
    return (tk_status)0xFFFFFFFFu;
}

/* ---- helpers ------------------------------------------------------------ */

static tk_transformer *builtin(const char *kind, const char *params) {
    tk_transformer *t = NULL;
    CHECK_OK(tk_transformer_new(kind, params, &t));
    CHECK(t != NULL);
    return t;
}

static void add(tk_pipeline *p, const char *name, tk_transformer *t, const char *const *inputs,
                size_t n) {
    CHECK_OK(tk_pipeline_add_step(p, name, t, inputs, n));
}

static const char *const FROM_INPUT[] = {"input"};

/*
 * input -> gain (x2), shift (+1.5), square (C), lowpass  -> sum of the first three -> stats
 */
static tk_pipeline *fan_out(void) {
    tk_pipeline *p = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    add(p, "gain", builtin("scale", "{\"factor\": 2}"), FROM_INPUT, 1);
    add(p, "shift", builtin("offset", "{\"value\": 1.5}"), FROM_INPUT, 1);
    struct square_data *data = calloc(1, sizeof *data);
    CHECK(data != NULL);
    tk_transformer *cb = NULL;
    CHECK_OK(tk_transformer_from_callback(square, data, free_square_data, &cb));
    add(p, "square", cb, FROM_INPUT, 1);
    add(p, "lowpass", builtin("lowpass", "{\"cutoff\": 100.0, \"order\": 4}"), FROM_INPUT, 1);
    const char *const sum_inputs[] = {"gain", "shift", "square"};
    add(p, "sum", builtin("merge", "{\"op\": \"sum\"}"), sum_inputs, 3);
    add(p, "stats", builtin("stats", NULL), NULL, 0); /* reads the previous step */
    return p;
}

static void make_input(double *x) {
    for (size_t i = 0; i < N; i++) {
        double t = (double)i / RATE;
        x[i] = sin(2.0 * PI * 10.0 * t) + 0.25 * cos(2.0 * PI * 170.0 * t);
    }
}

/* Runs the fan-out on `kind`, checks it against C, returns the lowpass output (owned). */
static tk_trace *run_fan_out(tk_executor kind, size_t workers, const double *x) {
    tk_pipeline *p = fan_out();
    CHECK_OK(tk_pipeline_set_parallel_config(p, kind, workers));

    char *order = NULL;
    CHECK_OK(tk_pipeline_execution_order(p, &order));
    CHECK(strcmp(order, "[[\"gain\",\"shift\",\"square\",\"lowpass\"],[\"sum\"],[\"stats\"]]") == 0);
    tk_string_free(order);

    tk_trace *input = NULL;
    CHECK_OK(tk_trace_new(x, N, RATE, &input));
    tk_trace *out = NULL;
    CHECK_OK(tk_pipeline_transform(p, input, &out));

    /* The output is the last step's: stats passes the sum through. */
    CHECK(tk_trace_len(out) == N);
    CHECK(tk_trace_sample_rate(out) == RATE);
    const double *y = tk_trace_samples(out);
    double mean = 0.0, min = INFINITY, max = -INFINITY;
    for (size_t i = 0; i < N; i++) {
        double expected = 2.0 * x[i] + (x[i] + 1.5) + x[i] * x[i];
        CHECK(close_to(y[i], expected, 1e-12));
        mean += expected;
        min = expected < min ? expected : min;
        max = expected > max ? expected : max;
    }
    mean /= N;
    double m = 0.0;
    CHECK_OK(tk_trace_measurement(out, "mean", &m));
    CHECK(close_to(m, mean, 1e-12));
    CHECK_OK(tk_trace_measurement(out, "peak_to_peak", &m));
    CHECK(close_to(m, max - min, 1e-12));
    CHECK_ERR(tk_trace_measurement(out, "thd_db", &m), TK_ERR_NOT_FOUND, "Available: [");

    /* Intermediates, each its own handle. */
    tk_trace *gain = NULL, *square_out = NULL, *lowpass = NULL;
    CHECK_OK(tk_pipeline_get_intermediate(p, "gain", &gain));
    CHECK_OK(tk_pipeline_get_intermediate(p, "square", &square_out));
    CHECK_OK(tk_pipeline_get_intermediate(p, "lowpass", &lowpass));
    for (size_t i = 0; i < N; i++) {
        CHECK(tk_trace_samples(gain)[i] == 2.0 * x[i]);
        CHECK(tk_trace_samples(square_out)[i] == x[i] * x[i]);
    }
    CHECK(tk_trace_len(lowpass) == N);
    CHECK_ERR(tk_pipeline_get_intermediate(p, "nope", &gain), TK_ERR_NOT_FOUND,
              "Step 'nope' not found in pipeline");

    tk_trace_free(gain);
    tk_trace_free(square_out);
    tk_trace_free(out);
    tk_trace_free(input);
    tk_pipeline_free(p);
    return lowpass;
}

static void test_fan_out_on_every_executor(void) {
    double x[N];
    make_input(x);
    int freed_before = atomic_load(&freed_user_data);
    tk_trace *seq = run_fan_out(TK_EXECUTOR_SEQUENTIAL, 0, x);
    tk_trace *thr = run_fan_out(TK_EXECUTOR_THREAD, 4, x);
    tk_trace *proc = run_fan_out(TK_EXECUTOR_PROCESS, 2, x);
    /* Each pipeline freed its callback's user data exactly once, in this process. */
    CHECK(atomic_load(&freed_user_data) == freed_before + 3);

    /* Every executor gives the sequential result bit for bit. */
    CHECK(memcmp(tk_trace_samples(seq), tk_trace_samples(thr), N * sizeof(double)) == 0);
    CHECK(memcmp(tk_trace_samples(seq), tk_trace_samples(proc), N * sizeof(double)) == 0);
    /* The low-pass keeps the 10 Hz tone and removes most of the 170 Hz one. */
    double residual = 0.0;
    for (size_t i = N / 4; i < 3 * N / 4; i++) {
        double t = (double)i / RATE;
        residual = fmax(residual, fabs(tk_trace_samples(seq)[i] - sin(2.0 * PI * 10.0 * t)));
    }
    CHECK(residual < 0.05);
    tk_trace_free(seq);
    tk_trace_free(thr);
    tk_trace_free(proc);
}

static void test_callback_user_data(void) {
    /* A callback transformer freed unused frees its user data once. */
    struct square_data *data = calloc(1, sizeof *data);
    CHECK(data != NULL);
    int before = atomic_load(&freed_user_data);
    tk_transformer *cb = NULL;
    CHECK_OK(tk_transformer_from_callback(square, data, free_square_data, &cb));
    tk_transformer_free(cb);
    CHECK(atomic_load(&freed_user_data) == before + 1);

    /* A sequential run calls it once per transform, on this process. */
    data = calloc(1, sizeof *data);
    CHECK(data != NULL);
    CHECK_OK(tk_transformer_from_callback(square, data, free_square_data, &cb));
    tk_pipeline *p = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    add(p, "square", cb, NULL, 0);
    CHECK_OK(tk_pipeline_set_parallel_config(p, TK_EXECUTOR_SEQUENTIAL, 0));
    double x[3] = {1.0, -2.0, 3.0};
    tk_trace *input = NULL, *out = NULL;
    CHECK_OK(tk_trace_new(x, 3, 10.0, &input));
    CHECK_ERR(tk_pipeline_get_intermediate(p, "square", &out), TK_ERR_NOT_FOUND,
              "Call transform() first.");
    for (int i = 0; i < 3; i++) {
        CHECK_OK(tk_pipeline_transform(p, input, &out));
        CHECK(tk_trace_samples(out)[1] == 4.0);
        tk_trace_free(out);
    }
    CHECK(atomic_load(&data->calls) == 3);
    /* The callback's own tk_ calls, on this thread, left the caller's message alone. */
    CHECK(strstr(tk_last_error_message(), "Call transform() first.") != NULL);
    tk_pipeline_free(p);
    CHECK(atomic_load(&freed_user_data) == before + 2);
    tk_trace_free(input);
}

/* A stage that takes 200 ms, then passes its input through. */
static tk_status slow(const tk_trace *const *inputs, size_t n_inputs, tk_trace **out,
                      void *user_data) {
    (void)user_data;
    if (n_inputs != 1) {
        return TK_ERR_INVALID_ARGUMENT;
    }
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    return tk_trace_new(tk_trace_samples(inputs[0]), tk_trace_len(inputs[0]),
                        tk_trace_sample_rate(inputs[0]), out);
}

static void test_stage_timeout(void) {
    tk_transformer *cb = NULL;
    CHECK_OK(tk_transformer_from_callback(slow, NULL, NULL, &cb));
    tk_pipeline *p = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    add(p, "slow", cb, NULL, 0);
    double x[2] = {1.0, 2.0};
    tk_trace *input = NULL, *out = NULL;
    CHECK_OK(tk_trace_new(x, 2, 10.0, &input));
    CHECK_ERR(tk_pipeline_set_stage_timeout(NULL, 1.0), TK_ERR_NULL_ARGUMENT, "'p'");
    CHECK_ERR(tk_pipeline_set_stage_timeout(p, -1.0), TK_ERR_INVALID_ARGUMENT, "got -1");
    CHECK_ERR(tk_pipeline_set_stage_timeout(p, NAN), TK_ERR_INVALID_ARGUMENT, "finite");
    CHECK_OK(tk_pipeline_set_stage_timeout(p, 0.05));
    tk_executor kinds[] = {TK_EXECUTOR_SEQUENTIAL, TK_EXECUTOR_PROCESS};
    for (size_t k = 0; k < 2; k++) {
        CHECK_OK(tk_pipeline_set_parallel_config(p, kinds[k], 1));
        CHECK_ERR(tk_pipeline_transform(p, input, &out), TK_ERR_TIMEOUT,
                  "Stage 'slow' exceeded its time limit");
        CHECK(out == NULL);
    }
    /* No limit: the stage runs to its end. */
    CHECK_OK(tk_pipeline_set_stage_timeout(p, 0.0));
    CHECK_OK(tk_pipeline_transform(p, input, &out));
    CHECK(tk_trace_samples(out)[1] == 2.0);
    tk_trace_free(out);
    tk_trace_free(input);
    tk_pipeline_free(p);
}

static void test_spec(void) {
    const char *spec = "{\"executor\": \"sequential\", \"steps\": ["
                       "{\"name\": \"double\", \"kind\": \"scale\", \"factor\": 2.0},"
                       "{\"name\": \"more\", \"kind\": \"offset\", \"value\": 1.0}]}";
    tk_pipeline *p = NULL;
    CHECK_OK(tk_pipeline_from_spec(spec, &p));
    double x[2] = {1.0, 2.0};
    tk_trace *input = NULL, *out = NULL;
    CHECK_OK(tk_trace_new(x, 2, 10.0, &input));
    CHECK_OK(tk_pipeline_transform(p, input, &out));
    CHECK(tk_trace_samples(out)[0] == 3.0 && tk_trace_samples(out)[1] == 5.0);
    tk_trace_free(out);
    /* More steps can be added to a pipeline from a spec. */
    add(p, "neg", builtin("scale", "{\"factor\": -1}"), NULL, 0);
    CHECK_OK(tk_pipeline_transform(p, input, &out));
    CHECK(tk_trace_samples(out)[1] == -5.0);
    tk_trace_free(out);
    tk_trace_free(input);
    tk_pipeline_free(p);

    const char *toml = "[[steps]]\nname = \"a\"\nkind = \"scale\"\nfactor = 3.0\n";
    CHECK_OK(tk_pipeline_from_spec(toml, &p));
    tk_pipeline_free(p);

    p = NULL;
    CHECK_ERR(tk_pipeline_from_spec("{\"steps\": [{\"name\": \"a\", \"kind\": \"nope\"}]}", &p),
              TK_ERR_INVALID_ARGUMENT, "nope");
    CHECK(p == NULL);
    CHECK_ERR(tk_pipeline_from_spec("{\"steps\": [{\"name\": \"a\", \"kind\": \"scale\", "
                                    "\"inputs\": [\"b\"]}, {\"name\": \"b\", \"kind\": "
                                    "\"scale\", \"inputs\": [\"a\"]}]}",
                                    &p),
              TK_ERR_INVALID_ARGUMENT, "Circular dependency detected in pipeline: a -> b -> a");
    CHECK_ERR(tk_pipeline_from_spec(NULL, &p), TK_ERR_NULL_ARGUMENT, "'spec'");
}

/* ---- errors ------------------------------------------------------------- */

static void test_null_arguments(void) {
    double x[2] = {1.0, 2.0};
    tk_trace *t = NULL;
    tk_transformer *tr = NULL;
    tk_pipeline *p = NULL;
    double v = 0.0;
    char *json = NULL;

    CHECK_ERR(tk_trace_new(x, 2, 1.0, NULL), TK_ERR_NULL_ARGUMENT, "argument 'out' is NULL");
    CHECK_ERR(tk_trace_new(NULL, 2, 1.0, &t), TK_ERR_NULL_ARGUMENT, "'samples'");
    CHECK(t == NULL);
    CHECK(tk_trace_len(NULL) == 0);
    CHECK(tk_trace_samples(NULL) == NULL);
    CHECK(isnan(tk_trace_sample_rate(NULL)));
    CHECK_ERR(tk_trace_measurement(NULL, "mean", &v), TK_ERR_NULL_ARGUMENT, "'t'");

    CHECK_ERR(tk_transformer_new(NULL, NULL, &tr), TK_ERR_NULL_ARGUMENT, "'kind'");
    CHECK_ERR(tk_transformer_new("scale", NULL, NULL), TK_ERR_NULL_ARGUMENT, "'out'");
    CHECK_ERR(tk_transformer_from_callback(NULL, NULL, NULL, &tr), TK_ERR_NULL_ARGUMENT, "'f'");
    CHECK_ERR(tk_transformer_from_callback(square, NULL, NULL, NULL), TK_ERR_NULL_ARGUMENT,
              "'out'");
    CHECK(tr == NULL);

    CHECK_ERR(tk_pipeline_new(NULL), TK_ERR_NULL_ARGUMENT, "'out'");
    CHECK_OK(tk_pipeline_new(&p));
    CHECK_OK(tk_trace_new(x, 2, 1.0, &t));
    /* add_step consumes the transformer even when it fails (valgrind checks). */
    CHECK_ERR(tk_pipeline_add_step(NULL, "a", builtin("scale", NULL), NULL, 0),
              TK_ERR_NULL_ARGUMENT, "'p'");
    CHECK_ERR(tk_pipeline_add_step(p, NULL, builtin("scale", NULL), NULL, 0), TK_ERR_NULL_ARGUMENT,
              "'name'");
    CHECK_ERR(tk_pipeline_add_step(p, "a", NULL, NULL, 0), TK_ERR_NULL_ARGUMENT, "'t'");
    CHECK_ERR(tk_pipeline_add_step(p, "a", builtin("scale", NULL), NULL, 1), TK_ERR_NULL_ARGUMENT,
              "'inputs'");
    const char *const with_null[] = {"input", NULL};
    CHECK_ERR(tk_pipeline_add_step(p, "a", builtin("scale", NULL), with_null, 2),
              TK_ERR_NULL_ARGUMENT, "'inputs[1]'");
    CHECK_ERR(tk_pipeline_set_parallel_config(NULL, TK_EXECUTOR_THREAD, 0), TK_ERR_NULL_ARGUMENT,
              "'p'");
    CHECK_ERR(tk_pipeline_transform(NULL, t, &t), TK_ERR_NULL_ARGUMENT, "'p'");
    CHECK_ERR(tk_pipeline_transform(p, NULL, &t), TK_ERR_NULL_ARGUMENT, "'input'");
    CHECK_ERR(tk_pipeline_transform(p, t, NULL), TK_ERR_NULL_ARGUMENT, "'out'");
    CHECK_ERR(tk_pipeline_get_intermediate(NULL, "a", &t), TK_ERR_NULL_ARGUMENT, "'p'");
    CHECK_ERR(tk_pipeline_get_intermediate(p, NULL, &t), TK_ERR_NULL_ARGUMENT, "'step'");
    CHECK_ERR(tk_pipeline_get_intermediate(p, "a", NULL), TK_ERR_NULL_ARGUMENT, "'out'");
    CHECK_ERR(tk_pipeline_execution_order(NULL, &json), TK_ERR_NULL_ARGUMENT, "'p'");
    CHECK_ERR(tk_pipeline_execution_order(p, NULL), TK_ERR_NULL_ARGUMENT, "'json_out'");
    CHECK(json == NULL);

    /* Freeing NULL is a no-op. */
    tk_trace_free(NULL);
    tk_transformer_free(NULL);
    tk_pipeline_free(NULL);
    tk_string_free(NULL);

    tk_trace_free(t);
    tk_pipeline_free(p);
}

static void test_bad_values(void) {
    double x[4] = {1.0, 2.0, 3.0, 4.0};
    tk_trace *t = NULL;
    tk_transformer *tr = NULL;

    CHECK_ERR(tk_trace_new(x, 4, NAN, &t), TK_ERR_INVALID_ARGUMENT, "sample rate");
    CHECK_ERR(tk_trace_new(x, 4, -1.0, &t), TK_ERR_INVALID_ARGUMENT, "sample rate");
    CHECK_ERR(tk_trace_new(x, 4, INFINITY, &t), TK_ERR_INVALID_ARGUMENT, "sample rate");
    CHECK_ERR(tk_trace_new(x, SIZE_MAX, 1.0, &t), TK_ERR_INVALID_ARGUMENT, "len");
    CHECK(t == NULL);

    CHECK_ERR(tk_transformer_new("nope", NULL, &tr), TK_ERR_INVALID_ARGUMENT,
              "unknown transformer kind 'nope'");
    CHECK_ERR(tk_transformer_new("scale", "{\"factor\": ", &tr), TK_ERR_INVALID_ARGUMENT,
              "not valid JSON");
    CHECK_ERR(tk_transformer_new("scale", "[1, 2]", &tr), TK_ERR_INVALID_ARGUMENT,
              "must be a JSON object");
    CHECK_ERR(tk_transformer_new("scale", "{\"bogus\": 1}", &tr), TK_ERR_INVALID_ARGUMENT,
              "bogus");
    CHECK_ERR(tk_transformer_new("scale", "{\"factor\": \"big\"}", &tr), TK_ERR_INVALID_ARGUMENT,
              "factor");
    CHECK_ERR(tk_transformer_new("scale", "{\"factor\": null}", &tr), TK_ERR_INVALID_ARGUMENT,
              "factor");
    CHECK_ERR(tk_transformer_new("\xff\xfe", NULL, &tr), TK_ERR_INVALID_ARGUMENT, "UTF-8");
    CHECK(tr == NULL);

    tk_pipeline *p = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    CHECK_OK(tk_trace_new(x, 4, 100.0, &t));
    tk_trace *out = NULL;
    char *json = NULL;

    /* No steps yet. */
    CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_PIPELINE, "Pipeline steps cannot be empty");
    CHECK_ERR(tk_pipeline_execution_order(p, &json), TK_ERR_PIPELINE,
              "Pipeline steps cannot be empty");

    /* Names rejected at once; the step is not added. */
    CHECK_ERR(tk_pipeline_add_step(p, "\xff", builtin("scale", NULL), NULL, 0),
              TK_ERR_INVALID_ARGUMENT, "UTF-8");
    CHECK_ERR(tk_pipeline_add_step(p, "", builtin("scale", NULL), NULL, 0), TK_ERR_PIPELINE,
              "Step name cannot be empty");
    CHECK_ERR(tk_pipeline_add_step(p, "input", builtin("scale", NULL), NULL, 0), TK_ERR_PIPELINE,
              "reserved");
    add(p, "a", builtin("scale", NULL), NULL, 0);
    CHECK_ERR(tk_pipeline_add_step(p, "a", builtin("scale", NULL), NULL, 0), TK_ERR_PIPELINE,
              "Duplicate step names: a");
    CHECK_OK(tk_pipeline_execution_order(p, &json));
    CHECK(strcmp(json, "[[\"a\"]]") == 0);
    tk_string_free(json);
    json = NULL;

    /* Before any transform, intermediates are missing; unknown steps are not found. */
    CHECK_ERR(tk_pipeline_get_intermediate(p, "a", &out), TK_ERR_NOT_FOUND,
              "No intermediate result for step 'a'. Call transform() first.");

    /* An input naming a step not added yet: accepted now, an error when used. */
    const char *const reads_x[] = {"x"};
    add(p, "b", builtin("scale", NULL), reads_x, 1);
    CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_PIPELINE,
              "Step 'b' reads 'x', which is not a step");
    CHECK_ERR(tk_pipeline_get_intermediate(p, "b", &out), TK_ERR_NOT_FOUND,
              "No intermediate result for step 'b'");
    CHECK_ERR(tk_pipeline_get_intermediate(p, "x", &out), TK_ERR_NOT_FOUND,
              "Step 'x' not found in pipeline");
    /* Adding it completes the wiring. */
    add(p, "x", builtin("offset", "{\"value\": 1}"), FROM_INPUT, 1);
    CHECK_OK(tk_pipeline_transform(p, t, &out));
    CHECK(tk_trace_samples(out)[0] == 2.0); /* output: last step, x */
    tk_trace_free(out);
    out = NULL;

    /* Unknown executor kinds are refused; 0 workers means automatic. */
    CHECK_ERR(tk_pipeline_set_parallel_config(p, 7, 0), TK_ERR_INVALID_ARGUMENT,
              "got 7");
    CHECK_OK(tk_pipeline_set_parallel_config(p, TK_EXECUTOR_THREAD, 0));
    tk_pipeline_free(p);

    /* A cycle. */
    CHECK_OK(tk_pipeline_new(&p));
    const char *const reads_b[] = {"b"};
    const char *const reads_a[] = {"a"};
    add(p, "a", builtin("scale", NULL), reads_b, 1);
    add(p, "b", builtin("scale", NULL), reads_a, 1);
    CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_PIPELINE,
              "Circular dependency detected in pipeline: a -> b -> a");
    CHECK_ERR(tk_pipeline_execution_order(p, &json), TK_ERR_PIPELINE, "a -> b -> a");
    CHECK(out == NULL && json == NULL);
    tk_pipeline_free(p);

    /* Stage failures name the step. */
    CHECK_OK(tk_pipeline_new(&p));
    add(p, "lp", builtin("lowpass", "{\"cutoff\": 5000.0}"), NULL, 0); /* above Nyquist (50 Hz) */
    CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_STAGE, "Stage 'lp' failed: ");
    tk_pipeline_free(p);

    CHECK_OK(tk_pipeline_new(&p));
    CHECK_OK(tk_transformer_from_callback(failing, NULL, NULL, &tr));
    add(p, "bad", tr, NULL, 0);
    CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_STAGE,
              "Stage 'bad' failed: the C callback returned TK_ERR_INVALID_ARGUMENT: Invalid trace: "
              "sample rate");
    tk_pipeline_free(p);

    CHECK_OK(tk_pipeline_new(&p));
    CHECK_OK(tk_transformer_from_callback(lazy, NULL, NULL, &tr));
    add(p, "lazy", tr, NULL, 0);
    CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_STAGE, "stored no trace");
    CHECK(out == NULL);
    tk_pipeline_free(p);

    /* A status outside tk_status is a stage error on every executor; the
     * pipeline keeps working. */
    const tk_executor executors[] = {TK_EXECUTOR_SEQUENTIAL, TK_EXECUTOR_THREAD,
                                     TK_EXECUTOR_PROCESS};
    for (size_t e = 0; e < 3; e++) {
        CHECK_OK(tk_pipeline_new(&p));
        CHECK_OK(tk_pipeline_set_parallel_config(p, executors[e], 2));
        CHECK_OK(tk_transformer_from_callback(rogue, NULL, NULL, &tr));
        add(p, "rogue", tr, NULL, 0);
        CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_STAGE,
                  "the C callback returned 4294967295, which is not a tk_status");
        CHECK_ERR(tk_pipeline_transform(p, t, &out), TK_ERR_STAGE, "4294967295");
        CHECK(out == NULL);
        tk_pipeline_free(p);
    }

    tk_trace_free(t);
}

static void test_empty_traces(void) {
    tk_trace *empty = NULL;
    CHECK_OK(tk_trace_new(NULL, 0, 1000.0, &empty));
    CHECK(tk_trace_len(empty) == 0);
    CHECK(tk_trace_samples(empty) != NULL);

    tk_pipeline *p = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    add(p, "gain", builtin("scale", "{\"factor\": 3}"), NULL, 0);
    tk_trace *out = NULL;
    CHECK_OK(tk_pipeline_transform(p, empty, &out));
    CHECK(tk_trace_len(out) == 0);
    tk_trace_free(out);
    out = NULL;
    add(p, "stats", builtin("stats", NULL), NULL, 0);
    /* A stage that cannot work on an empty trace says so. */
    CHECK_ERR(tk_pipeline_transform(p, empty, &out), TK_ERR_STAGE, "Stage 'stats' failed: ");
    CHECK(out == NULL);
    tk_pipeline_free(p);
    tk_trace_free(empty);
}

static void test_version_and_messages(void) {
    CHECK(strlen(tk_version()) > 0);
    CHECK(tk_last_error_message() != NULL);
    /* The message outlives successful calls. */
    tk_trace *t = NULL;
    CHECK_ERR(tk_trace_new(NULL, 1, 1.0, &t), TK_ERR_NULL_ARGUMENT, "samples");
    double x = 1.0;
    CHECK_OK(tk_trace_new(&x, 1, 1.0, &t));
    CHECK(strstr(tk_last_error_message(), "samples") != NULL);
    tk_trace_free(t);
}

int main(void) {
    test_version_and_messages();
    test_null_arguments();
    test_bad_values();
    test_empty_traces();
    test_callback_user_data();
    test_fan_out_on_every_executor();
    test_spec();
    test_stage_timeout();
    printf("test_api: ok\n");
    return 0;
}
