package sealhttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/sealog/sealog/integrations/internal/itest"
	"github.com/sealog/sealog/integrations/sealhttp"
)

// BenchmarkMiddleware measures a POST through the middleware, in each
// durability mode, over a real file log, against the bare handler; with
// one client and with 64 concurrent ones. The request is served in
// process (no network), so the difference is the middleware's cost.
func BenchmarkMiddleware(b *testing.B) {
	for _, clients := range []int{1, 64} {
		name := "clients=1"
		if clients > 1 {
			name = "clients=64"
		}
		b.Run(name, func(b *testing.B) {
			for _, tc := range []struct {
				name string
				mode sealhttp.Mode
				bare bool
			}{
				{"bare", 0, true},
				{"async", sealhttp.Async, false},
				{"before-response", sealhttp.BeforeResponse, false},
				{"before-handler", sealhttp.BeforeHandler, false},
			} {
				b.Run(tc.name, func(b *testing.B) {
					mux := http.NewServeMux()
					mux.HandleFunc("POST /items/{id}", func(w http.ResponseWriter, r *http.Request) {
						io.WriteString(w, `{"ok":true}`)
					})
					var h http.Handler = mux
					var mw *sealhttp.Middleware
					if !tc.bare {
						l, _ := itest.Open(b)
						mw = sealhttp.New(l, sealhttp.Options{Mode: tc.mode, Block: 10e9})
						h = mw.Handler(mux)
					}
					serve := func() {
						r := httptest.NewRequest("POST", "/items/42", nil)
						r.Header.Set("X-User", "alice@example.com")
						w := httptest.NewRecorder()
						h.ServeHTTP(w, r)
						if w.Code != 200 {
							b.Fatalf("status %d", w.Code)
						}
					}
					b.ReportAllocs()
					if clients == 1 {
						for b.Loop() {
							serve()
						}
					} else {
						b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								serve()
							}
						})
					}
					if mw != nil {
						if err := mw.Close(context.Background()); err != nil {
							b.Fatal(err)
						}
						if s := mw.Stats(); s.Failed != 0 {
							b.Fatalf("stats %+v", s)
						}
					}
				})
			}
		})
	}
}
