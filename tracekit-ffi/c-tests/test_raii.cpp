// The C API from C++17 through a small RAII wrapper: handles live in
// std::unique_ptr with the library's free functions as deleters, failures
// become exceptions carrying the status and the thread's last error.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tracekit.h"

namespace tk {

struct TraceDeleter {
    void operator()(tk_trace *t) const noexcept { tk_trace_free(t); }
};
struct TransformerDeleter {
    void operator()(tk_transformer *t) const noexcept { tk_transformer_free(t); }
};
struct PipelineDeleter {
    void operator()(tk_pipeline *p) const noexcept { tk_pipeline_free(p); }
};
struct StringDeleter {
    void operator()(char *s) const noexcept { tk_string_free(s); }
};

using Trace = std::unique_ptr<tk_trace, TraceDeleter>;
using Transformer = std::unique_ptr<tk_transformer, TransformerDeleter>;
using String = std::unique_ptr<char, StringDeleter>;

struct Error : std::runtime_error {
    tk_status status;
    Error(tk_status s, const std::string &what) : std::runtime_error(what), status(s) {}
};

inline void check(tk_status s) {
    if (s != TK_OK) {
        throw Error(s, tk_last_error_message());
    }
}

inline Trace make_trace(const std::vector<double> &x, double rate) {
    tk_trace *t = nullptr;
    check(tk_trace_new(x.data(), x.size(), rate, &t));
    return Trace(t);
}

inline std::vector<double> samples(const Trace &t) {
    const double *p = tk_trace_samples(t.get());
    return std::vector<double>(p, p + tk_trace_len(t.get()));
}

inline Transformer builtin(const char *kind, const char *params = nullptr) {
    tk_transformer *t = nullptr;
    check(tk_transformer_new(kind, params, &t));
    return Transformer(t);
}

class Pipeline {
  public:
    Pipeline() {
        tk_pipeline *p = nullptr;
        check(tk_pipeline_new(&p));
        p_.reset(p);
    }
    // The transformer is consumed by tk_pipeline_add_step on every path.
    Pipeline &add(const char *name, Transformer t, std::vector<const char *> inputs = {}) {
        check(tk_pipeline_add_step(p_.get(), name, t.release(), inputs.data(), inputs.size()));
        return *this;
    }
    Pipeline &config(tk_executor kind, std::size_t workers) {
        check(tk_pipeline_set_parallel_config(p_.get(), kind, workers));
        return *this;
    }
    Trace transform(const Trace &input) {
        tk_trace *out = nullptr;
        check(tk_pipeline_transform(p_.get(), input.get(), &out));
        return Trace(out);
    }
    Trace intermediate(const char *step) const {
        tk_trace *out = nullptr;
        check(tk_pipeline_get_intermediate(p_.get(), step, &out));
        return Trace(out);
    }
    std::string execution_order() const {
        char *json = nullptr;
        check(tk_pipeline_execution_order(p_.get(), &json));
        return String(json).get();
    }

  private:
    std::unique_ptr<tk_pipeline, PipelineDeleter> p_;
};

}  // namespace tk

#define EXPECT(cond)                                                                 \
    do {                                                                             \
        if (!(cond)) {                                                               \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                                \
        }                                                                            \
    } while (0)

// A C stage written as a captureless lambda: negates its input.
static tk_status negate(const tk_trace *const *inputs, size_t n, tk_trace **out, void *) {
    if (n != 1) return TK_ERR_INVALID_ARGUMENT;
    std::vector<double> y(tk_trace_len(inputs[0]));
    const double *x = tk_trace_samples(inputs[0]);
    for (std::size_t i = 0; i < y.size(); i++) y[i] = -x[i];
    return tk_trace_new(y.data(), y.size(), tk_trace_sample_rate(inputs[0]), out);
}

int main() {
    std::vector<double> x(300);
    for (std::size_t i = 0; i < x.size(); i++) x[i] = std::sin(0.05 * double(i)) + 0.1 * double(i % 7);
    tk::Trace input = tk::make_trace(x, 2000.0);

    std::vector<double> first;
    for (tk_executor kind : {TK_EXECUTOR_SEQUENTIAL, TK_EXECUTOR_THREAD, TK_EXECUTOR_PROCESS}) {
        tk_transformer *cb = nullptr;
        tk::check(tk_transformer_from_callback(negate, nullptr, nullptr, &cb));
        tk::Pipeline p;
        p.add("neg", tk::Transformer(cb), {"input"})
            .add("half", tk::builtin("scale", "{\"factor\": 0.5}"), {"input"})
            .add("smooth", tk::builtin("moving_average", "{\"length\": 5}"), {"input"})
            .add("mean", tk::builtin("merge", "{\"op\": \"mean\"}"), {"neg", "half"})
            .config(kind, 2);
        EXPECT(p.execution_order() == "[[\"neg\",\"half\",\"smooth\"],[\"mean\"]]");
        std::vector<double> y = tk::samples(p.transform(input));
        EXPECT(y.size() == x.size());
        for (std::size_t i = 0; i < x.size(); i++) {
            EXPECT(std::fabs(y[i] - (-x[i] + 0.5 * x[i]) / 2.0) <= 1e-15);
        }
        std::vector<double> neg = tk::samples(p.intermediate("neg"));
        EXPECT(neg[3] == -x[3]);
        EXPECT(tk::samples(p.intermediate("smooth")).size() == x.size());
        if (first.empty()) {
            first = y;
        } else {
            EXPECT(std::memcmp(first.data(), y.data(), y.size() * sizeof(double)) == 0);
        }
    }

    // Errors arrive as exceptions with the status and the message.
    try {
        tk::builtin("lowpass", "{\"cutof\": 10}");
        EXPECT(false);
    } catch (const tk::Error &e) {
        EXPECT(e.status == TK_ERR_INVALID_ARGUMENT);
        EXPECT(std::strstr(e.what(), "cutof") != nullptr);
    }
    try {
        tk::Pipeline p;
        p.add("a", tk::builtin("scale"), {"b"}).add("b", tk::builtin("scale"), {"a"});
        p.transform(input);
        EXPECT(false);
    } catch (const tk::Error &e) {
        EXPECT(e.status == TK_ERR_PIPELINE);
        EXPECT(std::strstr(e.what(), "Circular dependency detected in pipeline: a -> b -> a"));
    }
    std::printf("test_raii: ok\n");
    return 0;
}
