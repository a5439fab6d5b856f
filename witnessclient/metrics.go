package witnessclient

import (
	"encoding/base64"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the client's Prometheus metrics, per witness (the policy's
// name for it).
type metrics struct {
	lag          *prometheus.GaugeVec
	lastCosigned *prometheus.GaugeVec
	errors       *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	quorumSize   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, ws []*witnessState) (*metrics, error) {
	m := &metrics{
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sealog_witness_lag_entries",
			Help: "Entries the log's head is ahead of the latest checkpoint the witness cosigned."}, []string{"witness"}),
		lastCosigned: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sealog_witness_last_cosigned_timestamp_seconds",
			Help: "When the witness last cosigned a checkpoint of the log (Unix time)."}, []string{"witness"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sealog_witness_errors_total",
			Help: "Submissions to the witness that failed, by kind."}, []string{"witness", "kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sealog_witness_request_duration_seconds",
			Help: "Time to submit a checkpoint to the witness.", Buckets: prometheus.DefBuckets}, []string{"witness"}),
		quorumSize: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sealog_witness_quorum_tree_size",
			Help: "Size of the newest checkpoint cosigned by the policy's quorum."}),
	}
	for _, w := range ws {
		m.lag.WithLabelValues(w.w.Name)
		m.lastCosigned.WithLabelValues(w.w.Name)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.lag, m.lastCosigned, m.errors, m.latency, m.quorumSize} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
