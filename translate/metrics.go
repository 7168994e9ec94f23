package translate

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the engine sends and saves. A nil *Metrics records
// nothing.
type Metrics struct {
	chars    *prometheus.CounterVec
	requests *prometheus.CounterVec
	hits     *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewMetrics creates the engine's counters and registers them with reg
// (when reg is not nil). Counters already registered by an earlier call are
// reused, so two engines may share one registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		chars: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "transfeed_translate_chars_sent_total",
			Help: "Characters (code points) sent to a translation provider and answered.",
		}, []string{"provider"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "transfeed_translate_requests_total",
			Help: "Requests sent to a translation provider, failed ones included.",
		}, []string{"provider"}),
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "transfeed_translate_memory_hits_total",
			Help: "Segments served from the translation memory instead of the provider.",
		}, []string{"provider"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "transfeed_translate_failures_total",
			Help: "Translation failures by kind (temporary, quota, permanent, bad_answer, check, budget, paused, other).",
		}, []string{"provider", "kind"}),
	}
	if reg != nil {
		m.chars = register(reg, m.chars)
		m.requests = register(reg, m.requests)
		m.hits = register(reg, m.hits)
		m.failures = register(reg, m.failures)
	}
	return m
}

func register(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
	}
	return c
}

func (m *Metrics) sent(provider string, chars int64) {
	if m == nil {
		return
	}
	m.chars.WithLabelValues(provider).Add(float64(chars))
}

func (m *Metrics) request(provider string) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(provider).Inc()
}

func (m *Metrics) memoryHits(provider string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.hits.WithLabelValues(provider).Add(float64(n))
}

func (m *Metrics) failure(provider, kind string) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(provider, kind).Inc()
}

// failureKind is the metric label of an error kind.
func failureKind(k ErrorKind) string {
	switch k {
	case KindRetryable:
		return "temporary"
	case KindQuota:
		return "quota"
	case KindPermanent:
		return "permanent"
	case KindBadAnswer:
		return "bad_answer"
	}
	return "other"
}
