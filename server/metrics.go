package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sealog/sealog"
)

// metrics are the server's Prometheus metrics (docs/API.md, "Metrics").
// Names follow Prometheus's rules: a sealog_ prefix, base units
// (seconds), _total for counters, bounded label values.
type metrics struct {
	appended      prometheus.Counter
	requestEvents prometheus.Histogram
	commitLatency prometheus.Histogram
	errors        *prometheus.CounterVec
	http          *prometheus.CounterVec
	httpLatency   *prometheus.HistogramVec
}

// errorKinds are the values of sealog_errors_total's kind label, made
// up front so that every series exists from the start.
var errorKinds = []string{
	"bad_request", "too_many_events", "event_too_large", "body_too_large", "unauthorized", "forbidden",
	"rate_limited", "overloaded", "unavailable", "not_found", "idempotency_mismatch", "idempotency_in_flight",
	"commit_unknown", "internal",
}

func newMetrics(reg prometheus.Registerer, l *sealog.Log) (*metrics, error) {
	m := &metrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sealog_appended_entries_total", Help: "Entries appended through this server and acknowledged.",
		}),
		requestEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sealog_append_request_events", Help: "Events per successful POST /v1/entries.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sealog_commit_duration_seconds", Help: "Time from handing a request's events to the log until they are durable and signed.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sealog_errors_total", Help: "Requests answered with an error, by kind.",
		}, []string{"kind"}),
		http: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sealog_http_requests_total", Help: "HTTP requests, by route pattern and status code.",
		}, []string{"route", "code"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sealog_http_request_duration_seconds", Help: "HTTP request latency, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
	}
	for _, k := range errorKinds {
		m.errors.WithLabelValues(k)
	}
	stat := func(f func(sealog.Stats) float64) func() float64 {
		return func() float64 { return f(l.Stats()) }
	}
	cs := []prometheus.Collector{
		m.appended, m.requestEvents, m.commitLatency, m.errors, m.http, m.httpLatency,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealog_commit_batches_total", Help: "Batches the log's engine committed (one store append and one signature each).",
		}, stat(func(s sealog.Stats) float64 { return float64(s.Batches) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealog_committed_entries_total", Help: "Entries the log's engine committed, from every source.",
		}, stat(func(s sealog.Stats) float64 { return float64(s.Entries) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealog_commit_conflicts_total", Help: "Appends re-sequenced after losing a race with another writer of a shared store.",
		}, stat(func(s sealog.Stats) float64 { return float64(s.Conflicts) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealog_commit_failures_total", Help: "Batches whose callers got an error.",
		}, stat(func(s sealog.Stats) float64 { return float64(s.Failures) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealog_store_append_seconds_total", Help: "Time spent in the store's appends (writes and fsyncs).",
		}, stat(func(s sealog.Stats) float64 { return s.StoreTime.Seconds() })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sealog_pending_appends", Help: "Appends handed to the log and not yet answered.",
		}, stat(func(s sealog.Stats) float64 { return float64(s.Pending) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sealog_tree_size", Help: "Entries in the log (the size of its latest checkpoint).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			h, err := l.Store().Head(ctx)
			if err != nil {
				return -1
			}
			return float64(h.Size)
		}),
	}
	cs = append(cs, timestampCollectors(l)...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
