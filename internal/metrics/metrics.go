// Package metrics holds firn's Prometheus instruments. One *Metrics is created per
// server with its own registry, so tests can run servers side by side.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's instruments. A nil *Metrics records nothing.
type Metrics struct {
	reg              *prometheus.Registry
	logins           *prometheus.CounterVec
	loginSeconds     *prometheus.HistogramVec
	statements       *prometheus.CounterVec
	statementSeconds *prometheus.HistogramVec
}

// New returns instruments registered on a fresh registry, with Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firn_logins_total", Help: "Login attempts by authenticator and outcome.",
		}, []string{"authenticator", "outcome"}),
		loginSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "firn_login_duration_seconds", Help: "Login latency.", Buckets: prometheus.DefBuckets,
		}, []string{"authenticator"}),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firn_statements_total", Help: "Statements by kind and outcome.",
		}, []string{"kind", "outcome"}),
		statementSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "firn_statement_duration_seconds", Help: "Statement latency.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.logins, m.loginSeconds, m.statements, m.statementSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Login records one login attempt.
func (m *Metrics) Login(authenticator string, ok bool, d time.Duration) {
	if m == nil {
		return
	}
	m.logins.WithLabelValues(authenticator, outcome(ok)).Inc()
	m.loginSeconds.WithLabelValues(authenticator).Observe(d.Seconds())
}

// Statement records one statement. kind is a small fixed set (the statement's verb
// class), never user text.
func (m *Metrics) Statement(kind string, ok bool, d time.Duration) {
	if m == nil {
		return
	}
	m.statements.WithLabelValues(kind, outcome(ok)).Inc()
	m.statementSeconds.WithLabelValues(kind).Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func outcome(ok bool) string {
	if ok {
		return "success"
	}
	return "failure"
}
