/* Small assertion helpers shared by the C tests. */
#ifndef TRACEKIT_C_TESTS_CHECK_H
#define TRACEKIT_C_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracekit.h"

/* Fails the test with the file, the line and the thread's last error. */
#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n  last error: %s\n", __FILE__, \
                    __LINE__, #cond, tk_last_error_message());                       \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* The call returns TK_OK. */
#define CHECK_OK(call) CHECK((call) == TK_OK)

/* The call returns `status` and the last error message contains `text`. */
#define CHECK_ERR(call, status, text)                                                   \
    do {                                                                                \
        tk_status check_got_ = (call);                                                  \
        const char *check_msg_ = tk_last_error_message();                               \
        if (check_got_ != (status) || strstr(check_msg_, (text)) == NULL) {             \
            fprintf(stderr, "%s:%d: %s\n  expected status %d with \"%s\", got %d: %s\n", \
                    __FILE__, __LINE__, #call, (int)(status), (text), (int)check_got_,  \
                    check_msg_);                                                        \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

/* |a - b| is within `rel` of |b| (or of 1 near zero). */
static inline int close_to(double a, double b, double rel) {
    double scale = fabs(b) > 1.0 ? fabs(b) : 1.0;
    return fabs(a - b) <= rel * scale;
}

#endif
