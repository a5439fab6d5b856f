package auditor

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the auditor's Prometheus metrics (docs/AUDIT.md,
// "Metrics"): a sealog_audit_ prefix, base units, _total for counters,
// and label values bounded by the logs watched and the verdicts.
type metrics struct {
	result    *prometheus.GaugeVec
	completed *prometheus.GaugeVec
	succeeded *prometheus.GaugeVec
	size      *prometheus.GaugeVec
	entries   *prometheus.CounterVec
	errors    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	webhook   *prometheus.CounterVec
}

// errorKinds are the kind label's values: every failing verdict.
var errorKinds = []string{
	VerdictTampered, VerdictTruncated, VerdictForked, VerdictWrongKey, VerdictUnsigned,
	VerdictIncomplete, VerdictRevoked, VerdictRefused, VerdictUnreadable,
}

func newMetrics(reg prometheus.Registerer, logs []*Log) (*metrics, error) {
	byLog := []string{"log"}
	m := &metrics{
		result: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sealog_audit_last_result", Help: "Result of the last completed audit of the log: 1 valid, 0 failed.",
		}, byLog),
		completed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sealog_audit_last_completed_timestamp_seconds", Help: "When the last audit of the log completed, whatever its result (Unix time).",
		}, byLog),
		succeeded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sealog_audit_last_success_timestamp_seconds", Help: "When the last valid audit of the log completed (Unix time).",
		}, byLog),
		size: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sealog_audit_verified_tree_size", Help: "Size of the checkpoint the auditor trusts for the log.",
		}, byLog),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sealog_audit_entries_verified_total", Help: "Entry lines checked by the audits of the log (each audit checks every line).",
		}, byLog),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sealog_audit_errors_total", Help: "Failed audits of the log, by kind (the verdict).",
		}, []string{"log", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sealog_audit_duration_seconds", Help: "Time one audit of the log took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, byLog),
		webhook: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sealog_audit_webhook_deliveries_total", Help: "Webhook deliveries, by result (delivered, failed after every retry).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.result, m.completed, m.succeeded, m.size, m.entries, m.errors, m.duration, m.webhook} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, l := range logs {
		m.entries.WithLabelValues(l.id)
		for _, k := range errorKinds {
			m.errors.WithLabelValues(l.id, k)
		}
	}
	m.webhook.WithLabelValues("delivered")
	m.webhook.WithLabelValues("failed")
	return m, nil
}

// observe records a result.
func (m *metrics) observe(r *Result) {
	ok := 0.0
	if r.Valid {
		ok = 1
		m.succeeded.WithLabelValues(r.Log).Set(float64(r.Finished.UnixNano()) / 1e9)
	} else {
		m.errors.WithLabelValues(r.Log, r.Verdict).Inc()
	}
	m.result.WithLabelValues(r.Log).Set(ok)
	m.completed.WithLabelValues(r.Log).Set(float64(r.Finished.UnixNano()) / 1e9)
	m.size.WithLabelValues(r.Log).Set(float64(r.Size))
	m.entries.WithLabelValues(r.Log).Add(float64(r.Entries))
	m.duration.WithLabelValues(r.Log).Observe(r.Finished.Sub(r.Started).Seconds())
}
