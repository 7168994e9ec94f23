package worker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/transfeed/transfeed/model"
)

// Metrics are the worker's Prometheus collectors. A nil *Metrics records nothing.
type Metrics struct {
	polls       *prometheus.CounterVec
	posts       *prometheus.CounterVec
	translatedN prometheus.Counter
	failedN     prometheus.Counter
}

// NewMetrics registers the worker's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "transfeed_polls_total", Help: "Source polls by source and result (ok, not_modified, error).",
		}, []string{"source", "result"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "transfeed_posts_new_total", Help: "New posts stored, by source.",
		}, []string{"source"}),
		translatedN: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "transfeed_posts_translated_total", Help: "Posts fully translated.",
		}),
		failedN: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "transfeed_post_translation_failures_total", Help: "Post translation attempts that failed and will be retried.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.polls, m.posts, m.translatedN, m.failedN)
	}
	return m
}

func (m *Metrics) poll(source string, result model.PollStatus, newPosts int) {
	if m == nil {
		return
	}
	m.polls.WithLabelValues(source, string(result)).Inc()
	if newPosts > 0 {
		m.posts.WithLabelValues(source).Add(float64(newPosts))
	}
}

func (m *Metrics) translated() {
	if m != nil {
		m.translatedN.Inc()
	}
}

func (m *Metrics) translateFailed() {
	if m != nil {
		m.failedN.Inc()
	}
}
