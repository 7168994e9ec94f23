package server

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics counts requests and their latency by route pattern (never the
// raw path, so ids do not explode the label space) and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	mu       sync.Mutex // serialises additions to known
	known    atomic.Pointer[map[routeCode]*routeMetrics]
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "transfeed", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "transfeed", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "code"}),
	}
	m.known.Store(&map[routeCode]*routeMetrics{})
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("server: metrics already registered (one Server per registry): %w", err)
			}
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	return m, nil
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// routeMetrics are one route's and status code's series, looked up once.
type routeMetrics struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// series returns the series of route and code. They are kept in a map
// that is replaced, never modified, on the first request of a new pair
// (routes and codes are few), so the common case takes no lock.
func (m *httpMetrics) series(route string, code int) *routeMetrics {
	k := routeCode{route, code}
	if rm, ok := (*m.known.Load())[k]; ok {
		return rm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.known.Load()
	if rm, ok := old[k]; ok {
		return rm
	}
	c := strconv.Itoa(code)
	rm := &routeMetrics{requests: m.requests.WithLabelValues(route, c), duration: m.duration.WithLabelValues(route, c)}
	next := make(map[routeCode]*routeMetrics, len(old)+1)
	maps.Copy(next, old)
	next[k] = rm
	m.known.Store(&next)
	return rm
}

type routeCode struct {
	route string
	code  int
}

func (m *httpMetrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		// The mux sets r.Pattern on the request it was given.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		rm := m.series(route, code)
		rm.requests.Inc()
		rm.duration.Observe(time.Since(start).Seconds())
	})
}
