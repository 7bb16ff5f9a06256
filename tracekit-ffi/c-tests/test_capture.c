/*
 * Captures from C: tk_read_capture on files written here (a scope-style
 * CSV with two channels, a 16-bit stereo WAV), the traces' channels and
 * attributes, a pipeline run on a trace read from a file, and the errors:
 * a missing file, an unknown format, NULL arguments.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

static void put_u16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, uint32_t v) {
    put_u16(p, (uint16_t)(v & 0xffff));
    put_u16(p + 2, (uint16_t)(v >> 16));
}

static char *attribute(const tk_trace *t, const char *name) {
    char *value = NULL;
    CHECK_OK(tk_trace_attribute(t, name, &value));
    CHECK(value != NULL);
    return value;
}

static void test_csv(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/scope.csv", dir);
    const char *text = "time,CH1,CH2\n0.0,1.0,-1.0\n0.001,2.0,-2.0\n0.002,3.0,-3.0\n";
    write_file(path, text, strlen(text));

    tk_trace **traces = NULL;
    size_t n = 0;
    CHECK_OK(tk_read_capture(path, &traces, &n));
    CHECK(n == 2);
    CHECK(tk_trace_len(traces[1]) == 3);
    CHECK(tk_trace_samples(traces[1])[2] == -3.0);
    CHECK(close_to(tk_trace_sample_rate(traces[0]), 1000.0, 1e-12));

    char *format = attribute(traces[0], "format");
    CHECK(strcmp(format, "CSV") == 0);
    tk_string_free(format);
    char *source = attribute(traces[0], "source");
    CHECK(strcmp(source, "scope.csv") == 0);
    tk_string_free(source);
    char *none = NULL;
    CHECK_ERR(tk_trace_attribute(traces[0], "no-such", &none), TK_ERR_NOT_FOUND, "source");
    CHECK(none == NULL);

    /* A trace read from a file runs through a pipeline like any other. */
    tk_pipeline *p = NULL;
    CHECK_OK(tk_pipeline_new(&p));
    tk_transformer *scale = NULL;
    CHECK_OK(tk_transformer_new("scale", "{\"factor\": 2.0}", &scale));
    CHECK_OK(tk_pipeline_add_step(p, "double", scale, NULL, 0));
    tk_trace *out = NULL;
    CHECK_OK(tk_pipeline_transform(p, traces[0], &out));
    CHECK(tk_trace_samples(out)[1] == 4.0);
    tk_trace_free(out);
    tk_pipeline_free(p);

    tk_traces_free(traces, n);
}

static void test_wav(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/stereo.wav", dir);
    /* 16-bit PCM, 2 channels, 8000 Hz, 2 frames: (16384, -32768), (0, 8192). */
    unsigned char wav[44 + 8];
    memcpy(wav, "RIFF", 4);
    put_u32(wav + 4, sizeof wav - 8);
    memcpy(wav + 8, "WAVEfmt ", 8);
    put_u32(wav + 16, 16);
    put_u16(wav + 20, 1);
    put_u16(wav + 22, 2);
    put_u32(wav + 24, 8000);
    put_u32(wav + 28, 8000 * 4);
    put_u16(wav + 32, 4);
    put_u16(wav + 34, 16);
    memcpy(wav + 36, "data", 4);
    put_u32(wav + 40, 8);
    put_u16(wav + 44, 16384);
    put_u16(wav + 46, (uint16_t)-32768);
    put_u16(wav + 48, 0);
    put_u16(wav + 50, 8192);
    write_file(path, wav, sizeof wav);

    tk_trace **traces = NULL;
    size_t n = 0;
    CHECK_OK(tk_read_capture(path, &traces, &n));
    CHECK(n == 2);
    CHECK(tk_trace_sample_rate(traces[0]) == 8000.0);
    CHECK(tk_trace_samples(traces[0])[0] == 0.5);
    CHECK(tk_trace_samples(traces[1])[0] == -1.0);
    CHECK(tk_trace_samples(traces[1])[1] == 0.25);
    /* WAV channels have no label of their own: tracekit names them. */
    CHECK(strcmp(tk_trace_channel(traces[1]), "stereo.ch1") == 0);
    tk_traces_free(traces, n);
}

static void test_errors(const char *dir) {
    tk_trace **traces = NULL;
    size_t n = 99;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.wfm", dir);
    CHECK_ERR(tk_read_capture(path, &traces, &n), TK_ERR_IO, "missing.wfm");
    CHECK(traces == NULL && n == 99);

    snprintf(path, sizeof path, "%s/junk.bin", dir);
    const unsigned char junk[] = {0x00, 0xff, 0x13, 0x37, 0x00, 0x01, 0x02, 0x03};
    write_file(path, junk, sizeof junk);
    CHECK_ERR(tk_read_capture(path, &traces, &n), TK_ERR_IO, "unknown file type");

    CHECK_ERR(tk_read_capture(NULL, &traces, &n), TK_ERR_NULL_ARGUMENT, "path");
    CHECK_ERR(tk_read_capture(path, NULL, &n), TK_ERR_NULL_ARGUMENT, "traces_out");
    CHECK_ERR(tk_read_capture(path, &traces, NULL), TK_ERR_NULL_ARGUMENT, "n_out");
    CHECK(tk_trace_channel(NULL) == NULL);
    char *value = NULL;
    CHECK_ERR(tk_trace_attribute(NULL, "model", &value), TK_ERR_NULL_ARGUMENT, "t");
    tk_traces_free(NULL, 0);

    /* A trace made in C has an empty channel label and no attributes. */
    double x[] = {1.0};
    tk_trace *t = NULL;
    CHECK_OK(tk_trace_new(x, 1, 1.0, &t));
    CHECK(strcmp(tk_trace_channel(t), "") == 0);
    CHECK_ERR(tk_trace_attribute(t, "model", &value), TK_ERR_NOT_FOUND, "no attribute 'model'");
    tk_trace_free(t);
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tracekit-c-capture-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    test_csv(dir);
    test_wav(dir);
    test_errors(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("test_capture: ok\n");
    return 0;
}
