package sealog

import "context"

// Appender is what records events: a *Log (the library, a local log) and
// a *client.Client (a remote log behind 'sealog serve') both satisfy it,
// and the integrations (integrations/sealslog, sealhttp, sealgrpc) take
// one, so that an application moves from one to the other by changing
// the value it passes, not its code.
//
// Both methods return only once the events are durable and signed; an
// error means the events may not be recorded.
type Appender interface {
	// Append records one event.
	Append(ctx context.Context, ev Event) (Receipt, error)
	// AppendBatch records several events atomically, one receipt each.
	AppendBatch(ctx context.Context, evs []Event) ([]Receipt, error)
}

var _ Appender = (*Log)(nil)
