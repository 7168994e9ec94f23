package bot

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts deliveries per channel. A nil *Metrics is valid and counts
// nothing.
type Metrics struct {
	sent, failed, retried, rateLimited *prometheus.CounterVec
}

// NewMetrics creates the delivery counters and registers them with reg (nil:
// not registered). Registering twice with the same registry reuses the
// counters already there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	newVec := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "transfeed",
			Subsystem: "telegram",
			Name:      name,
			Help:      help,
		}, []string{"channel"})
		if reg == nil {
			return c
		}
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					return existing
				}
			}
		}
		return c
	}
	return &Metrics{
		sent:        newVec("deliveries_sent_total", "Telegram messages delivered."),
		failed:      newVec("deliveries_failed_total", "Deliveries failed permanently (chat gone, message refused)."),
		retried:     newVec("deliveries_retried_total", "Deliveries put back for a later attempt (transient errors, 429, pacing)."),
		rateLimited: newVec("rate_limited_total", "429 Too Many Requests answers from Telegram."),
	}
}

func (m *Metrics) inc(v func(*Metrics) *prometheus.CounterVec, channel string) {
	if m == nil {
		return
	}
	v(m).WithLabelValues(channel).Inc()
}

func (m *Metrics) incSent(channel string) {
	m.inc(func(m *Metrics) *prometheus.CounterVec { return m.sent }, channel)
}

func (m *Metrics) incFailed(channel string) {
	m.inc(func(m *Metrics) *prometheus.CounterVec { return m.failed }, channel)
}

func (m *Metrics) incRetried(channel string) {
	m.inc(func(m *Metrics) *prometheus.CounterVec { return m.retried }, channel)
}

func (m *Metrics) incRateLimited(channel string) {
	m.inc(func(m *Metrics) *prometheus.CounterVec { return m.rateLimited }, channel)
}
