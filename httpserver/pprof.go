package httpserver

import (
	"net/http"
	"net/http/pprof"
)

// WithProfiling serves Go's profiler under /debug/pprof/ beside h (the
// metrics listener's handler; never the public API's): the index, the named
// profiles (heap, goroutine, block, mutex, allocs...), a CPU profile, an
// execution trace and symbols. The handlers are mounted on a mux of their
// own, so nothing depends on http.DefaultServeMux, where the pprof package
// also registers them.
func WithProfiling(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
