package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/client"
	"github.com/sealog/sealog/server"
)

// ExampleClient_Keys shows a client pinned to a log's first key following
// the log's rotation to a new key by itself: the first receipt signed by
// the new key makes it find the rotation record, check it (in the log,
// covered by a checkpoint of the old key consistent with the one it
// trusts) and trust the key it names. A checkpoint signed by a key no
// rotation hands over to would be a *client.RotationError.
func ExampleClient_Keys() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sealog-example")
	defer os.RemoveAll(dir)
	skey, vkey, _ := sealog.GenerateKey("example.com/audit")
	key, _ := sealog.ParseKey(skey)
	l, err := sealog.Open(filepath.Join(dir, "log"), sealog.Options{Key: key})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	tokens, _ := server.CreateTokens(filepath.Join(dir, "tokens.json"))
	token, _, _ := tokens.Add("app", server.RoleAdmin, time.Now())
	srv, err := server.New(ctx, server.Config{Log: l, Tokens: tokens, IdempotencyFile: filepath.Join(dir, "idem")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, _ := client.New(client.Config{URL: hs.URL, Token: token, VerifierKey: vkey})
	defer c.Close()
	c.Append(ctx, sealog.Event{Kind: "user.login", Actor: "alice"})

	// The operator rotates the log's key (sealog key rotate).
	nextS, nextV, _ := sealog.GenerateKey("example.com/audit")
	next, _ := sealog.ParseKey(nextS)
	l.Rotate(ctx, next)

	r, err := c.Append(ctx, sealog.Event{Kind: "user.logout", Actor: "alice"})
	var re *client.RotationError
	if errors.As(err, &re) {
		fmt.Println("refused:", re.Reason)
		return
	}
	keys := c.Keys()
	fmt.Println("entry", r.Seq, "is signed by the new key:", keys[len(keys)-1].VerifierKey == nextV)
	fmt.Println("keys trusted:", len(keys), "- the rotation record is entry", keys[1].Rotation)
	// Output:
	// entry 2 is signed by the new key: true
	// keys trusted: 2 - the rotation record is entry 1
}
