package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealog/sealog"
	"github.com/sealog/sealog/internal/testkit"
	"github.com/sealog/sealog/store"
	storeopen "github.com/sealog/sealog/store/open"
	"github.com/sealog/sealog/store/postgres"
	"github.com/sealog/sealog/verify"
)

// pgCluster is a PostgreSQL cluster of the test's own, run as the
// postgres user from the machine's PostgreSQL binaries.
type pgCluster struct {
	bin, dir string
	port     int
}

// needClusters returns the PostgreSQL binaries' directory, or skips the
// test (fails it when CI=true) when clusters of its own cannot be run
// here: that needs root (to run them as the postgres user) and the
// server's binaries (Debian's postgresql package).
func needClusters(t *testing.T) string {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	if os.Geteuid() != 0 {
		fail("running a PostgreSQL cluster of the test's own needs root (to run it as the postgres user)")
	}
	if _, err := user.Lookup("postgres"); err != nil {
		fail("no postgres user: %v", err)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		fail("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)")
	}
	return filepath.Dir(bins[len(bins)-1])
}

// asPostgres runs a PostgreSQL program as the postgres user.
func asPostgres(ctx context.Context, t *testing.T, bin string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start starts the cluster in c.dir on c.port and stops it when t ends.
func (c *pgCluster) start(ctx context.Context, t *testing.T) {
	t.Helper()
	sock := filepath.Dir(c.dir)
	asPostgres(ctx, t, filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-l", c.dir+".log", "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s", c.port, sock), "start")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		exec.CommandContext(ctx, "runuser", "-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-m", "immediate", "-w", "stop").Run()
	})
}

func (c *pgCluster) url(schema string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&schema=%s", c.port, schema)
}

// TestReplica: a hot standby made with pg_basebackup from a primary (both
// clusters of the test's own, on ports of their own) serves reads and
// verification of a log appended on the primary: it catches up, verifies
// VALID from its rows, proves entries against its head, and refuses to
// append (a standby is read-only).
func TestReplica(t *testing.T) {
	bin := needClusters(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	base, err := os.MkdirTemp("", "sealog-replica-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	pw, _ := user.Lookup("postgres")
	uid, _ := strconv.Atoi(pw.Uid)
	gid, _ := strconv.Atoi(pw.Gid)
	if err := os.Chown(base, uid, gid); err != nil {
		t.Fatal(err)
	}
	primary := &pgCluster{bin: bin, dir: filepath.Join(base, "primary"), port: freePort(t)}
	asPostgres(ctx, t, filepath.Join(bin, "initdb"), "-D", primary.dir, "-U", "postgres", "-A", "trust", "--no-sync")
	primary.start(ctx, t)
	replica := &pgCluster{bin: bin, dir: filepath.Join(base, "replica"), port: freePort(t)}
	asPostgres(ctx, t, filepath.Join(bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "postgres",
		"-D", replica.dir, "-R", "-X", "stream", "--no-sync")
	replica.start(ctx, t)

	const origin, n = "replica.example/log", 600
	skey, vkey := testkit.Keys("replica", origin)
	key, err := sealog.ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	pst, err := postgres.Open(ctx, primary.url("audit"), postgres.Options{Origin: origin, Key: vkey})
	if err != nil {
		t.Fatal(err)
	}
	l, err := sealog.New(ctx, pst, sealog.Options{Key: key, Clock: testkit.Clock(time.Millisecond), Rand: testkit.Rand("replica")})
	if err != nil {
		t.Fatal(err)
	}
	var last sealog.Receipt
	for b := range 6 {
		evs := make([]sealog.Event, n/6)
		for i := range evs {
			evs[i] = sealog.Event{Kind: "replica.test", Actor: fmt.Sprint("user", b), Payload: map[string]int{"i": b*100 + i}}
		}
		rs, err := l.AppendBatch(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		last = rs[len(rs)-1]
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// The standby replays the primary's WAL: wait until it holds the log.
	var rst store.Store
	testkit.Eventually(t, time.Minute, "the standby holding the whole log", func() bool {
		if rst == nil {
			s, err := postgres.Open(ctx, replica.url("audit"), postgres.Options{ReadOnly: true, NoCreate: true})
			if err != nil {
				return false
			}
			rst = s
		}
		h, err := rst.Head(ctx)
		return err == nil && h.Size == n
	})
	defer rst.Close()

	rep, err := verify.Verify(ctx, storeopen.Source(ctx, rst, "entries"), verify.Options{Key: vkey, AllSignatures: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Entries != n || rep.Authenticated != n {
		t.Fatalf("verifying the standby: valid %v, %d entries, %d authenticated, problems %v", rep.Valid, rep.Entries, rep.Authenticated, rep.Problems)
	}
	rl, err := sealog.New(ctx, rst, sealog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	en, err := rl.Entry(ctx, last.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if en.LeafHash != last.LeafHash {
		t.Fatalf("entry %d read on the standby has leaf %x, the primary's receipt %x", last.Seq, en.LeafHash, last.LeafHash)
	}
	if err := rl.Prove(ctx, &last); err != nil {
		t.Fatalf("proving the primary's receipt on the standby: %v", err)
	}
	if _, err := verify.VerifyReceipt(last, vkey); err != nil {
		t.Fatalf("the receipt proven on the standby does not verify: %v", err)
	}

	// A standby is read-only: a writer there gets a clear error.
	wst, err := postgres.Open(ctx, replica.url("audit"), postgres.Options{Origin: origin, Key: vkey, NoCreate: true})
	if err == nil {
		wl, nerr := sealog.New(ctx, wst, sealog.Options{Key: key})
		if nerr == nil {
			_, err = wl.Append(ctx, sealog.Event{Kind: "on.the.standby"})
			wl.Close()
		} else {
			err = nerr
			wst.Close()
		}
	}
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("appending on the standby: %v, want an error that says it is read-only", err)
	}
	t.Logf("appending on the standby: %v", err)
	if ce := (*store.ConflictError)(nil); errors.As(err, &ce) {
		t.Fatalf("appending on the standby gave a conflict, not a refusal: %v", err)
	}
}
