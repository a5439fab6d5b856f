package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sealog/sealog"
)

// timestampCollectors export the log's RFC 3161 timestamp status: the
// gap (entries committed and not yet covered by a timestamp) is what to
// alert on when the TSA is down.
func timestampCollectors(l *sealog.Log) []prometheus.Collector {
	st := func(f func(sealog.TimestampStatus) float64) func() float64 {
		return func() float64 { return f(l.TimestampStatus()) }
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sealog_timestamp_gap_entries", Help: "Entries committed since the newest checkpoint a TSA timestamped (0 without --tsa).",
		}, st(func(s sealog.TimestampStatus) float64 { return float64(s.Head - min(s.Size, s.Head)) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sealog_timestamped_size", Help: "The tree size of the newest checkpoint a TSA timestamped since the server started.",
		}, st(func(s sealog.TimestampStatus) float64 { return float64(s.Size) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealog_timestamps_total", Help: "RFC 3161 timestamps obtained and stored.",
		}, st(func(s sealog.TimestampStatus) float64 { return float64(s.Stamped) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sealog_timestamp_failures_total", Help: "RFC 3161 timestamp requests that failed (TSA down, slow or answering wrongly) or could not be stored.",
		}, st(func(s sealog.TimestampStatus) float64 { return float64(s.Failures) })),
	}
}
