package memstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sealog/sealog/store"
	"github.com/sealog/sealog/store/memstore"
	"github.com/sealog/sealog/store/storetest"
)

// Two handles on one DB stand for two processes sharing a database: each
// sees the other's appends, and a batch built on a stale head is refused.
func Example() {
	ctx := context.Background()
	db := memstore.NewDB(storetest.Metadata())
	a, b := db.Open(), db.Open()
	defer a.Close()
	defer b.Close()

	wa, wb := storetest.NewBuilder("a"), storetest.NewBuilder("b")
	stale := wb.Batch(1) // built on the empty head
	if _, err := a.Append(ctx, wa.Batch(2)); err != nil {
		panic(err)
	}
	h, _ := b.Head(ctx)
	fmt.Println("b sees", h.Size, "entries")

	_, err := b.Append(ctx, stale)
	var ce *store.ConflictError
	fmt.Println(errors.As(err, &ce), err)

	retry, err := wb.Retry(ctx, b) // re-sequenced after the new head
	if err != nil {
		panic(err)
	}
	h, _ = b.Append(ctx, retry)
	fmt.Println("now", h.Size, "entries")
	// Output:
	// b sees 2 entries
	// true append conflict: batch starts at 0 but the log has 2 entries
	// now 3 entries
}
